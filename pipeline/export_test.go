package pipeline

// Test helpers for the external test package (pipeline_test).
var CraftCapture = craftCapture
