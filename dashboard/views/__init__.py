"""The dashboard pages, each a script that `st.navigation` runs (dashboard/app.py). Not named
`pages/`: Streamlit would also treat such a folder as pages of its older multipage mode."""
