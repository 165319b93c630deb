# foundation integration tests
