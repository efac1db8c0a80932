print("chaos-proxy: not yet")
