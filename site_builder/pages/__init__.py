"""Page models: what each template receives, built in Python so templates only lay out."""
