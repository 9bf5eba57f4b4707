#include "textflag.h"

// miniinit_rt0 is miniinit's entry point when linked with -E=miniinit_rt0
// (inherit.go): it records the signal mask and the ignored signals the
// process was started with, which the Go runtime is about to change, then
// starts the runtime as the usual entry point would. Only system calls, on
// the stack the kernel set up, which it leaves as it found it.
TEXT miniinit_rt0(SB),NOSPLIT|NOFRAME,$0
	// rt_sigprocmask(SIG_BLOCK, NULL, &startBlocked, 8)
	MOVQ	$14, AX
	MOVQ	$0, DI
	MOVQ	$0, SI
	LEAQ	·startBlocked(SB), DX
	MOVQ	$8, R10
	SYSCALL
	// For signals 1 to 64: rt_sigaction(sig, NULL, &sigactBuf, 8); a
	// handler of SIG_IGN (1) sets bit sig-1 of R13.
	MOVQ	$1, R12
	XORQ	R13, R13
loop:
	MOVQ	$13, AX
	MOVQ	R12, DI
	MOVQ	$0, SI
	LEAQ	·sigactBuf(SB), DX
	MOVQ	$8, R10
	SYSCALL
	CMPQ	AX, $0
	JNE	next
	MOVQ	·sigactBuf(SB), AX
	CMPQ	AX, $1
	JNE	next
	MOVQ	R12, CX
	DECQ	CX
	MOVQ	$1, AX
	SHLQ	CX, AX
	ORQ	AX, R13
next:
	INCQ	R12
	CMPQ	R12, $65
	JLT	loop
	MOVQ	R13, ·startIgnored(SB)
	MOVL	$1, ·startCaptured(SB)
	JMP	_rt0_amd64_linux(SB)
