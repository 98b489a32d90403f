
	region:R22026-Q2trust