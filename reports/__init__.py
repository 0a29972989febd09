"""Reports managers read (monthly support report, quarterly review) and BI exports."""
