print("seqbox-stress: not yet")
