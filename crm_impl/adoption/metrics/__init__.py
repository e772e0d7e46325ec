"""The adoption metrics (pure: frames in, frames and numbers out; no database, no streamlit)."""
