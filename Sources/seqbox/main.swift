print("seqbox: not yet")
