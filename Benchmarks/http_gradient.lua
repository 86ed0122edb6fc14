-- wrk script: POST the seed's second example to /gradient.
wrk.method = "POST"
wrk.body = '{"network": {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]}, {"weights": [0.1, -0.3]}]}, "input": [0.5, 0.1, -0.2], "target": 0.6, "learning_rate": 0.5}'
wrk.headers["Content-Type"] = "application/json"
