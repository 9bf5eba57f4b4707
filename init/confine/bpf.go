package confine

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// This file is a tiny classic-BPF assembler: just the instructions a
// seccomp filter needs (load a word of seccomp_data, compare, return) and
// forward jumps to labels. Classic BPF only jumps forward, and a
// conditional jump reaches at most 255 instructions, so assemble refuses
// anything else instead of emitting a program the kernel would misread.

// Opcode parts (linux/bpf_common.h).
const (
	bpfLD   = 0x00
	bpfJMP  = 0x05
	bpfRET  = 0x06
	bpfW    = 0x00
	bpfABS  = 0x20
	bpfJA   = 0x00
	bpfJEQ  = 0x10
	bpfJGT  = 0x20
	bpfJGE  = 0x30
	bpfJSET = 0x40
	bpfK    = 0x00
)

// label names a position in a program. The zero label means "the next
// instruction" (fall through).
type label int

const next label = 0

// insn is one instruction before assembly: jumps still name labels.
type insn struct {
	code   uint16
	k      uint32
	jt, jf label // conditional jumps
	ja     label // BPF_JA target
}

// asm collects instructions and binds labels to positions.
type asm struct {
	insns  []insn
	labels []int // label-1 -> position, -1 while unbound
}

func (a *asm) newLabel() label {
	a.labels = append(a.labels, -1)
	return label(len(a.labels))
}

// bind places l at the next instruction emitted.
func (a *asm) bind(l label) { a.labels[l-1] = len(a.insns) }

// loadAbs loads the 32-bit word at offset off of seccomp_data into A.
func (a *asm) loadAbs(off uint32) {
	a.insns = append(a.insns, insn{code: bpfLD | bpfW | bpfABS, k: off})
}

// jump emits a conditional jump comparing A with k (op is bpfJEQ, bpfJGT,
// bpfJGE or bpfJSET).
func (a *asm) jump(op uint16, k uint32, jt, jf label) {
	a.insns = append(a.insns, insn{code: bpfJMP | op | bpfK, k: k, jt: jt, jf: jf})
}

// jumpAlways emits an unconditional jump to l.
func (a *asm) jumpAlways(l label) {
	a.insns = append(a.insns, insn{code: bpfJMP | bpfJA, ja: l})
}

// ret emits "return k": k is a SECCOMP_RET_* action with its data.
func (a *asm) ret(k uint32) {
	a.insns = append(a.insns, insn{code: bpfRET | bpfK, k: k})
}

// assemble resolves labels into relative offsets.
func (a *asm) assemble() ([]unix.SockFilter, error) {
	out := make([]unix.SockFilter, len(a.insns))
	off := func(pc int, l label, max int) (int, error) {
		if l == next {
			return 0, nil
		}
		pos := a.labels[l-1]
		if pos < 0 {
			return 0, fmt.Errorf("bpf: instruction %d jumps to unbound label %d", pc, l)
		}
		d := pos - (pc + 1)
		if d < 0 {
			return 0, fmt.Errorf("bpf: instruction %d jumps backwards to %d", pc, pos)
		}
		if d > max {
			return 0, fmt.Errorf("bpf: instruction %d jumps %d instructions ahead, more than %d", pc, d, max)
		}
		return d, nil
	}
	for pc, in := range a.insns {
		f := unix.SockFilter{Code: in.code, K: in.k}
		if in.code == bpfJMP|bpfJA {
			d, err := off(pc, in.ja, 1<<31)
			if err != nil {
				return nil, err
			}
			f.K = uint32(d)
		} else if in.code&0x07 == bpfJMP {
			jt, err := off(pc, in.jt, 255)
			if err != nil {
				return nil, err
			}
			jf, err := off(pc, in.jf, 255)
			if err != nil {
				return nil, err
			}
			f.Jt, f.Jf = uint8(jt), uint8(jf)
		}
		out[pc] = f
	}
	if len(out) > bpfMaxInsns {
		return nil, fmt.Errorf("bpf: %d instructions, more than the kernel's limit of %d", len(out), bpfMaxInsns)
	}
	return out, nil
}

// bpfMaxInsns is BPF_MAXINSNS, the kernel's limit on a classic program.
const bpfMaxInsns = 4096
