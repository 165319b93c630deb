# the p11unlock tool (issue 5)
