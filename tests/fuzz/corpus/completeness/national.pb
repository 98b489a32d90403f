
national2025-07:2026-10region