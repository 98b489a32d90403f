
ics:I12025-07:2026-06trust"activity.wait_days*median*p75*mean