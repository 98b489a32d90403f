
region:NOPE2021-13ward"x*mode