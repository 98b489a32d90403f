
national2026trust"staffing0