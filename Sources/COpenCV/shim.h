// Intentionally empty: CVBridge includes <opencv2/...> itself from C++.
