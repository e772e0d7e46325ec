"""Pure metric functions: pandas in, pandas or numbers out; no database, no Streamlit."""
