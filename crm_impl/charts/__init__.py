"""Pure Altair builders: DataFrame in, alt.Chart out. No database, no Streamlit."""
