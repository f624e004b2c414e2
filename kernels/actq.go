package kernels

// Activation block sizes in bytes.
const (
	q8_0Bytes = 34  // fp16 d, int8 qs[32]
	q8_1Bytes = 36  // fp16 d, fp16 s, int8 qs[32]
	q8_KBytes = 292 // f32 d, int8 qs[256], int16 bsums[16]
)
