
	region:R12025ics"profile*yes*pct