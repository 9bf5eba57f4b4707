package confine

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// seccompData is struct seccomp_data, for the interpreter.
type seccompData struct {
	nr   uint32
	arch uint32
	args [6]uint64
}

func (d seccompData) bytes() []byte {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint32(b[0:], d.nr)
	binary.LittleEndian.PutUint32(b[4:], d.arch)
	for i, a := range d.args {
		binary.LittleEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// run interprets the subset of classic BPF the assembler emits, the way
// the kernel does, so programs can be checked without loading them.
func run(prog []unix.SockFilter, d seccompData) (uint32, error) {
	data := d.bytes()
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case bpfLD | bpfW | bpfABS:
			if int(in.K)+4 > len(data) {
				return 0, fmt.Errorf("pc %d: load past seccomp_data", pc)
			}
			a = binary.LittleEndian.Uint32(data[in.K:])
		case bpfJMP | bpfJA:
			pc += int(in.K)
		case bpfJMP | bpfJEQ | bpfK, bpfJMP | bpfJGT | bpfK, bpfJMP | bpfJGE | bpfK, bpfJMP | bpfJSET | bpfK:
			var cond bool
			switch in.Code &^ (bpfJMP | bpfK) {
			case bpfJEQ:
				cond = a == in.K
			case bpfJGT:
				cond = a > in.K
			case bpfJGE:
				cond = a >= in.K
			case bpfJSET:
				cond = a&in.K != 0
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case bpfRET | bpfK:
			return in.K, nil
		default:
			return 0, fmt.Errorf("pc %d: opcode %#x not interpreted", pc, in.Code)
		}
	}
	return 0, fmt.Errorf("fell off the end of the program")
}

func TestAssembleJumpOffsets(t *testing.T) {
	var s asm
	l1, l2, l3 := s.newLabel(), s.newLabel(), s.newLabel()
	s.loadAbs(0)                // 0
	s.jump(bpfJEQ, 7, l2, next) // 1: jt -> 4 (offset 2), jf -> 2
	s.jump(bpfJGT, 100, l1, l3) // 2: jt -> 3 (0), jf -> 6 (3)
	s.bind(l1)                  //
	s.ret(1)                    // 3
	s.bind(l2)                  //
	s.jumpAlways(l3)            // 4: -> 6 (1)
	s.ret(2)                    // 5
	s.bind(l3)                  //
	s.ret(3)                    // 6
	prog, err := s.assemble()
	if err != nil {
		t.Fatal(err)
	}
	want := []unix.SockFilter{
		{Code: bpfLD | bpfW | bpfABS, K: 0},
		{Code: bpfJMP | bpfJEQ, Jt: 2, Jf: 0, K: 7},
		{Code: bpfJMP | bpfJGT, Jt: 0, Jf: 3, K: 100},
		{Code: bpfRET, K: 1},
		{Code: bpfJMP | bpfJA, K: 1},
		{Code: bpfRET, K: 2},
		{Code: bpfRET, K: 3},
	}
	if len(prog) != len(want) {
		t.Fatalf("got %d instructions, want %d", len(prog), len(want))
	}
	for i := range want {
		if prog[i] != want[i] {
			t.Errorf("instruction %d: got %+v, want %+v", i, prog[i], want[i])
		}
	}
	for nr, ret := range map[uint32]uint32{7: 3, 100: 3, 101: 1, 0: 3} {
		got, err := run(prog, seccompData{nr: nr})
		if err != nil || got != ret {
			t.Errorf("nr %d: got %d, %v; want %d", nr, got, err, ret)
		}
	}
}

func TestAssembleRefusesBadJumps(t *testing.T) {
	t.Run("unbound", func(t *testing.T) {
		var s asm
		s.jump(bpfJEQ, 1, s.newLabel(), next)
		s.ret(0)
		if _, err := s.assemble(); err == nil || !strings.Contains(err.Error(), "unbound") {
			t.Fatalf("got %v, want an unbound label error", err)
		}
	})
	t.Run("backwards", func(t *testing.T) {
		var s asm
		l := s.newLabel()
		s.bind(l)
		s.loadAbs(0)
		s.jump(bpfJEQ, 1, l, next)
		s.ret(0)
		if _, err := s.assemble(); err == nil || !strings.Contains(err.Error(), "backwards") {
			t.Fatalf("got %v, want a backwards jump error", err)
		}
	})
	t.Run("too far", func(t *testing.T) {
		var s asm
		l := s.newLabel()
		s.jump(bpfJEQ, 1, l, next)
		for range 256 {
			s.ret(0)
		}
		s.bind(l)
		s.ret(1)
		if _, err := s.assemble(); err == nil || !strings.Contains(err.Error(), "more than 255") {
			t.Fatalf("got %v, want a jump distance error", err)
		}
	})
	t.Run("255 is fine", func(t *testing.T) {
		var s asm
		l := s.newLabel()
		s.loadAbs(offNr)
		s.jump(bpfJEQ, 1, l, next)
		for range 255 {
			s.ret(0)
		}
		s.bind(l)
		s.ret(1)
		prog, err := s.assemble()
		if err != nil {
			t.Fatal(err)
		}
		if prog[1].Jt != 255 {
			t.Fatalf("jt = %d, want 255", prog[1].Jt)
		}
		if got, _ := run(prog, seccompData{nr: 1}); got != 1 {
			t.Fatalf("nr 1 returned %d, want 1", got)
		}
	})
}
