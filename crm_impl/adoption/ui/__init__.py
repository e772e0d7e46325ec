"""The adoption domain's Streamlit widgets: `usage` (the usage dashboard) and the registers'."""
