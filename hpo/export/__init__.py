"""Export: the chosen trial -> a sealed checkpoint, a PyTorch program and an ONNX file; evaluation."""

# The splits `hpo evaluate` scores on. Here, where the command line can offer them without
# importing torch (hpo.export.evaluate does).
SPLITS = ("test", "val")
