package metal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

//go:embed shim/shim.h shim/metal_stdlib shim/end.h shim/runner.cpp
var shimFS embed.FS

// Sim is the simulated Metal device: the project's unchanged .metal source
// compiled as C++ with clang (16 or newer) against the shim header in
// shim/, run by a helper executable that this process drives over a pipe.
// Buffers are files in a temporary folder (in /dev/shm when it exists)
// mapped by both processes, so kernels read and write the memory the Go
// side sees, as on unified memory.
//
// A helper process rather than purego.Dlopen of a shared object: the
// cogedge binary stays static (purego on Linux needs the dynamic loader),
// a crashing shader cannot take the Go process down, and the C++ runtime's
// threads and signals never meet the Go runtime's.
//
// It is slow (threadgroups run one after another on one core) and meant for
// checking shader changes without a Mac, not for speed.
type Sim struct {
	mu       sync.Mutex
	compiler string
	dir      string
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	in       *bufio.Writer
	out      *bufio.Reader
	stderr   bytes.Buffer
	nextID   uint32
	alloc    int // bytes of the buffers the simulator allocated
	counts
	closed bool
}

type simBuffer struct {
	id    uint32
	mem   []byte
	n     int
	owned int  // bytes of a buffer file the simulator made (0 for an alias)
	alias bool // maps a file of the caller's (WrapHost): never deleted
}

func (b *simBuffer) Len() int     { return b.n }
func (b *simBuffer) Host() []byte { return b.mem[:b.n] }

// OpenSim builds the simulator's runner (once per source version, cached
// in the user cache folder) and starts it.
func OpenSim() (*Sim, error) {
	clang, err := FindClang()
	if err != nil {
		return nil, err
	}
	runner, err := buildRunner(clang)
	if err != nil {
		return nil, err
	}
	base := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		base = "/dev/shm"
	}
	dir, err := os.MkdirTemp(base, "cogedge-metal-sim-")
	if err != nil {
		return nil, fmt.Errorf("metal-sim: buffer folder: %w", err)
	}
	s := &Sim{compiler: clang, dir: dir}
	s.cmd = exec.Command(runner)
	s.cmd.Stderr = &s.stderr
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("metal-sim: start %s: %w", runner, err)
	}
	s.in = bufio.NewWriterSize(s.stdin, 1<<16)
	s.out = bufio.NewReader(stdout)
	return s, nil
}

// buildRunner compiles runner.cpp with the shader source and the generated
// wrappers, unless the cache already holds that build.
func buildRunner(clang string) (string, error) {
	decls, err := parseKernels(shaderSource)
	if err != nil {
		return "", err
	}
	wrappers, err := simWrappers(decls)
	if err != nil {
		return "", err
	}
	files := map[string][]byte{"cogedge.metal": []byte(shaderSource), "wrappers.inc": []byte(wrappers)}
	for _, n := range []string{"shim.h", "metal_stdlib", "end.h", "runner.cpp"} {
		b, err := shimFS.ReadFile("shim/" + n)
		if err != nil {
			return "", err
		}
		files[n] = b
	}
	args := []string{"-std=c++20", "-O2", "-w", "-ffp-contract=off", "-Xclang", "-ffloat16-excess-precision=none",
		"-I", ".", `-DKERNEL_SOURCE="cogedge.metal"`, "runner.cpp", "-o"}
	h := sha256.New()
	fmt.Fprintln(h, clang, strings.Join(args, " "))
	for _, n := range []string{"cogedge.metal", "wrappers.inc", "shim.h", "metal_stdlib", "end.h", "runner.cpp"} {
		fmt.Fprintf(h, "%s %d\n", n, len(files[n]))
		h.Write(files[n])
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "cogedge", "metal-sim", hex.EncodeToString(h.Sum(nil))[:16])
	runner := filepath.Join(dir, "runner")
	if _, err := os.Stat(runner); err == nil {
		return runner, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("metal-sim: cache folder: %w", err)
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			return "", fmt.Errorf("metal-sim: %w", err)
		}
	}
	tmp := fmt.Sprintf("runner.tmp-%d", os.Getpid())
	cmd := exec.Command(clang, append(args, tmp)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(filepath.Join(dir, tmp))
		return "", fmt.Errorf("metal-sim: compiling the shaders with %s: %w\n%s", clang, err, out)
	}
	if err := os.Rename(filepath.Join(dir, tmp), runner); err != nil {
		return "", fmt.Errorf("metal-sim: %w", err)
	}
	return runner, nil
}

// builtinLane maps a Metal builtin attribute to the shim's lane field.
var builtinLane = map[string]string{
	"threadgroup_position_in_grid":   "L.tgid",
	"thread_position_in_threadgroup": "L.tpos",
	"thread_index_in_threadgroup":    "L.tiitg",
	"threads_per_threadgroup":        "L.ntg",
	"thread_position_in_grid":        "L.gid",
	"threadgroups_per_grid":          "L.ngrid",
	"simdgroup_index_in_threadgroup": "L.sgitg",
	"thread_index_in_simdgroup":      "L.tiisg",
}

var bufferAttrRE = regexp.MustCompile(`^buffer\((\d+)\)$`)

// simWrappers writes one C++ wrapper per kernel that binds its buffers and
// builtins from the runner's argument table and the fiber's lane.
func simWrappers(decls []kernelDecl) (string, error) {
	var b strings.Builder
	b.WriteString("// generated by kernels/metal: one wrapper per kernel\n")
	b.WriteString("struct KernelEntry {\n\tconst char *name;\n\tshimrt::Entry fn;\n};\n")
	for _, k := range decls {
		var args []string
		for _, p := range k.params {
			if m := bufferAttrRE.FindStringSubmatch(p.attr); m != nil {
				t := strings.TrimSpace(p.typ)
				if strings.HasSuffix(t, "&") {
					args = append(args, fmt.Sprintf("*(%s *)(a[%s])", strings.TrimSpace(strings.TrimSuffix(t, "&")), m[1]))
				} else {
					args = append(args, fmt.Sprintf("(%s)(a[%s])", t, m[1]))
				}
				continue
			}
			lane, ok := builtinLane[p.attr]
			if !ok {
				return "", fmt.Errorf("metal-sim: kernel %s: parameter %s: attribute [[%s]] not simulated", k.name, p.name, p.attr)
			}
			args = append(args, fmt.Sprintf("shimrt::conv<%s>(%s)", p.typ, lane))
		}
		fmt.Fprintf(&b, "static void w_%s(void **a) {\n\tshimrt::Lane &L = shimrt::lane();\n\t(void)L;\n\t%s(%s);\n}\n",
			k.name, k.name, strings.Join(args, ", "))
	}
	b.WriteString("static const KernelEntry kKernels[] = {\n")
	for _, k := range decls {
		fmt.Fprintf(&b, "\t{\"%s\", w_%s},\n", k.name, k.name)
	}
	b.WriteString("};\n")
	return b.String(), nil
}

// Name reports the simulator and its compiler.
func (s *Sim) Name() string { return "metal-sim (" + filepath.Base(s.compiler) + ")" }

// MaxBufferLength is 1 GiB: large enough for tests and small models.
func (s *Sim) MaxBufferLength() int { return 1 << 30 }

// newID numbers a new buffer; s.mu is held.
func (s *Sim) newID() (uint32, error) {
	if s.closed {
		return 0, errors.New("metal-sim: device closed")
	}
	s.nextID++
	return s.nextID, nil
}

// NewBuffer makes a zeroed buffer backed by a file both processes map.
func (s *Sim) NewBuffer(size int) (Buffer, error) {
	if size < 0 || size > s.MaxBufferLength() {
		return nil, fmt.Errorf("metal-sim: buffer of %d bytes: outside 0..%d", size, s.MaxBufferLength())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.newID()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(s.dir, fmt.Sprintf("buf%d", id))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("metal-sim: %w", err)
	}
	defer f.Close()
	mapped := max(size, 16)
	if err := f.Truncate(int64(mapped)); err != nil {
		return nil, fmt.Errorf("metal-sim: %w", err)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, mapped, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("metal-sim: mmap %s: %w", path, err)
	}
	var rec bytes.Buffer
	put32(&rec, 1, id)
	binary.Write(&rec, binary.LittleEndian, uint64(mapped))
	put32(&rec, uint32(len(path)))
	rec.WriteString(path)
	s.in.Write(rec.Bytes())
	s.alloc += mapped
	return &simBuffer{id: id, mem: mem, n: size, owned: mapped}, nil
}

// WrapHost aliases mem without a copy when it is a mapping of a file (the
// GGUF): the runner maps the same pages of the same file, read-only, as
// newBufferWithBytesNoCopy makes Metal read the mapping itself. Other
// memory is copied into a new buffer, which Allocated counts.
func (s *Sim) WrapHost(mem []byte) (Buffer, error) {
	page := os.Getpagesize()
	if len(mem) == 0 || uintptr(unsafe.Pointer(&mem[0]))%uintptr(page) != 0 {
		return nil, fmt.Errorf("metal-sim: WrapHost: memory is empty or not aligned to the %d-byte page", page)
	}
	if len(mem) > s.MaxBufferLength() {
		return nil, fmt.Errorf("metal-sim: WrapHost: %d bytes exceed the %d-byte buffer limit", len(mem), s.MaxBufferLength())
	}
	fb, ok, err := fileBacking(uintptr(unsafe.Pointer(&mem[0])), len(mem))
	if err != nil {
		return nil, err
	}
	if !ok {
		b, err := s.NewBuffer(len(mem))
		if err != nil {
			return nil, err
		}
		copy(b.Host(), mem)
		return b, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.newID()
	if err != nil {
		return nil, err
	}
	var rec bytes.Buffer
	put32(&rec, 5, id)
	binary.Write(&rec, binary.LittleEndian, uint64(ceilDiv(len(mem), page)*page))
	binary.Write(&rec, binary.LittleEndian, fb.off)
	binary.Write(&rec, binary.LittleEndian, fb.inode)
	put32(&rec, uint32(len(fb.path)))
	rec.WriteString(fb.path)
	s.in.Write(rec.Bytes())
	return &simBuffer{id: id, mem: mem, n: len(mem), alias: true}, nil
}

// Allocated counts the buffer files the simulator made; aliases of the
// caller's file mappings hold none.
func (s *Sim) Allocated() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alloc
}

// backing is the file a range of this process's memory maps.
type backing struct {
	path  string
	off   uint64 // file offset of the range's first byte
	inode uint64
}

// fileBacking looks addr..addr+n up in /proc/self/maps: ok when the whole
// range maps one file (in one or several adjacent entries with contiguous
// file offsets, as madvise or mlock may split a mapping).
func fileBacking(addr uintptr, n int) (backing, bool, error) {
	raw, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return backing{}, false, fmt.Errorf("metal-sim: WrapHost: %w", err)
	}
	var fb backing
	next := uint64(addr) // the next address the range needs covered
	end := uint64(addr) + uint64(n)
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasPrefix(f[5], "/") {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		stop, err2 := strconv.ParseUint(hi, 16, 64)
		off, err3 := strconv.ParseUint(f[2], 16, 64)
		inode, err4 := strconv.ParseUint(f[4], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || next < start || next >= stop {
			continue
		}
		path := strings.Join(f[5:], " ")
		if fb.path == "" {
			fb = backing{path: path, off: off + (next - start), inode: inode}
		} else if path != fb.path || inode != fb.inode || off+(next-start) != fb.off+(next-uint64(addr)) {
			return backing{}, false, nil
		}
		next = stop
		if next >= end {
			return fb, true, nil
		}
	}
	return backing{}, false, nil
}

// Free unmaps the buffer on both sides and deletes its file.
func (s *Sim) Free(b Buffer) error {
	sb, ok := b.(*simBuffer)
	if !ok {
		return errors.New("metal-sim: Free: not a simulator buffer")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if sb.mem == nil {
		return nil
	}
	var rec bytes.Buffer
	put32(&rec, 2, sb.id)
	s.in.Write(rec.Bytes())
	if !sb.alias {
		os.Remove(filepath.Join(s.dir, fmt.Sprintf("buf%d", sb.id)))
		syscall.Munmap(sb.mem)
	}
	s.alloc -= sb.owned
	sb.mem, sb.owned = nil, 0
	return nil
}

func put32(w *bytes.Buffer, v ...uint32) {
	for _, x := range v {
		binary.Write(w, binary.LittleEndian, x)
	}
}

// Dispatch queues the kernel; it runs when the command buffer is flushed
// by Sync (the runner executes dispatches in order).
func (s *Sim) Dispatch(kernel string, groups, threads Size3, args ...Arg) error {
	if err := checkDispatch(kernel, groups, threads, args); err != nil {
		return err
	}
	var rec bytes.Buffer
	put32(&rec, 3, uint32(len(kernel)))
	rec.WriteString(kernel)
	for _, v := range groups {
		put32(&rec, uint32(v))
	}
	for _, v := range threads {
		put32(&rec, uint32(v))
	}
	put32(&rec, uint32(len(args)))
	for i, a := range args {
		if a.buf != nil {
			sb, ok := a.buf.(*simBuffer)
			if !ok {
				return fmt.Errorf("metal-sim: %s: argument %d is not a simulator buffer", kernel, i)
			}
			put32(&rec, uint32(i), 0, sb.id)
			binary.Write(&rec, binary.LittleEndian, uint64(a.off))
		} else {
			put32(&rec, uint32(i), 1, uint32(len(a.bytes)))
			rec.Write(a.bytes)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("metal-sim: device closed")
	}
	s.add(kernel)
	_, err := s.in.Write(rec.Bytes())
	return err
}

// Sync flushes the queued work and waits for the runner's verdict.
func (s *Sim) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("metal-sim: device closed")
	}
	var rec bytes.Buffer
	put32(&rec, 4)
	s.in.Write(rec.Bytes())
	if err := s.in.Flush(); err != nil {
		return s.died(err)
	}
	var hdr [8]byte
	if _, err := io.ReadFull(s.out, hdr[:]); err != nil {
		return s.died(err)
	}
	msg := make([]byte, binary.LittleEndian.Uint32(hdr[4:]))
	if _, err := io.ReadFull(s.out, msg); err != nil {
		return s.died(err)
	}
	if binary.LittleEndian.Uint32(hdr[:]) != 0 {
		return fmt.Errorf("metal-sim: %s", msg)
	}
	return nil
}

func (s *Sim) died(err error) error {
	return fmt.Errorf("metal-sim: runner stopped (%v): %s", err, strings.TrimSpace(s.stderr.String()))
}

// Close stops the runner and removes the buffer files (existing buffers'
// host mappings stay readable until the process exits).
func (s *Sim) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.stdin.Close()
	err := s.cmd.Wait()
	os.RemoveAll(s.dir)
	if err != nil {
		return fmt.Errorf("metal-sim: runner: %w: %s", err, strings.TrimSpace(s.stderr.String()))
	}
	return nil
}
