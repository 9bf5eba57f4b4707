#include "textflag.h"

// miniinit_rt0 on arm64 only starts the runtime: the signal state is not
// recorded (startCaptured stays 0), and workloads inherit what the runtime
// left visible (inherit.go).
TEXT miniinit_rt0(SB),NOSPLIT|NOFRAME,$0
	B	_rt0_arm64_linux(SB)
