
trust:T2FY2025"staffing