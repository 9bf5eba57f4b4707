package confine

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Offsets in struct seccomp_data (linux/seccomp.h): int nr; u32 arch;
// u64 instruction_pointer; u64 args[6]. Both supported machines are
// little-endian, so an argument's low word comes first.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// chunk bounds how many comparisons share one return instruction, so
// that no conditional jump reaches past 255 instructions.
const chunk = 128

// compile turns p into a classic BPF program for a. The program reads:
//
//  1. arch is not a's native ABI            -> OtherABI
//  2. the number has a's x32 bit set        -> OtherABI
//  3. the number is above a's table         -> Unknown
//  4. each rule in order; the first match   -> its Action
//  5. anything else                         -> Default
//
// Steps 1 and 2 come first because every number after them is read in
// the native numbering; step 3 before the rules, so that no rule can be
// matched by a number the table does not know.
func compile(p *SeccompProfile, a *arch) ([]unix.SockFilter, error) {
	if a == nil {
		return nil, fmt.Errorf("seccomp: no syscall table for this architecture")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var s asm

	// 1. Native ABI only.
	s.loadAbs(offArch)
	native := s.newLabel()
	s.jump(bpfJEQ, a.auditArch, native, next)
	s.ret(uint32(p.OtherABI))
	s.bind(native)
	s.loadAbs(offNr)

	// 2. x32 shares x86_64's audit arch: tell it by the number.
	if a.x32Bit != 0 {
		notX32 := s.newLabel()
		s.jump(bpfJSET, a.x32Bit, next, notX32)
		s.ret(uint32(p.OtherABI))
		s.bind(notX32)
	}

	// 3. Numbers the table does not know.
	known := s.newLabel()
	s.jump(bpfJGT, a.maxNr, next, known)
	s.ret(uint32(p.Unknown))
	s.bind(known)

	// 4. The rules. A is the syscall number on entry to each.
	for _, r := range p.Rules {
		nrs := resolve(r.Syscalls, a)
		for len(nrs) > 0 {
			n := min(len(nrs), chunk)
			emitRule(&s, nrs[:n], r)
			nrs = nrs[n:]
		}
	}

	// 5. Everything else.
	s.ret(uint32(p.Default))
	return s.assemble()
}

// resolve maps names to a's numbers, skipping names a does not have and
// duplicates.
func resolve(names []string, a *arch) []uint32 {
	var nrs []uint32
	seen := map[uint32]bool{}
	for _, name := range names {
		nr, ok := a.sysnum[name]
		if !ok || seen[nr] {
			continue
		}
		seen[nr] = true
		nrs = append(nrs, nr)
	}
	return nrs
}

// emitRule compares A against each number; on a match it returns the
// rule's action, after checking the argument condition if there is one.
// On no match, and when the condition fails, it continues with A still
// holding the syscall number.
func emitRule(s *asm, nrs []uint32, r SeccompRule) {
	hit, skip := s.newLabel(), s.newLabel()
	target := hit
	var check label
	if r.If != nil {
		check = s.newLabel()
		target = check
	}
	for i, nr := range nrs {
		jf := next
		if i == len(nrs)-1 {
			jf = skip
		}
		s.jump(bpfJEQ, nr, target, jf)
	}
	if r.If != nil {
		s.bind(check)
		off := uint32(offArgs + 8*r.If.Index)
		if lo := uint32(r.If.Mask); lo != 0 {
			s.loadAbs(off)
			s.jump(bpfJSET, lo, hit, next)
		}
		if hi := uint32(r.If.Mask >> 32); hi != 0 {
			s.loadAbs(off + 4)
			s.jump(bpfJSET, hi, hit, next)
		}
		s.loadAbs(offNr) // restore A for the rules that follow
		s.jumpAlways(skip)
	}
	s.bind(hit)
	s.ret(uint32(r.Action))
	s.bind(skip)
}

// Program compiles p for the running architecture: the BPF instructions
// Apply would load. It is exported for inspection and tests.
func (p *SeccompProfile) Program() ([]unix.SockFilter, error) {
	return compile(p, nativeArch())
}
