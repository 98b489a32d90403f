
national2026-Q1region"activity