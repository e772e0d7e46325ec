"""Shared Streamlit widgets: the only package under crm_impl/ that imports streamlit."""
