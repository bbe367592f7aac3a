//go:build scale

package scale

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux architecture Go runs on.
const clockTicks = 100

// cpuOf returns the CPU time (user + system) a process has used so far.
func cpuOf(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count fields after its ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parsing /proc/%d/stat: %q", pid, b)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// statusField returns a field of /proc/<pid>/status, such as VmRSS or PPid.
func statusField(pid int, name string) (string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no %s in /proc/%d/status", name, pid)
}

// rssOf returns a process's resident set size in bytes.
func rssOf(pid int) (int64, error) {
	v, err := statusField(pid, "VmRSS")
	if err != nil {
		return 0, err
	}
	kb, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
	return kb * 1024, err
}

// childByBinary finds the child process of this one running bin: the
// envtest kube-apiserver or etcd. Other test runs on the machine may run
// the same binaries; only our own children count.
func childByBinary(bin string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	// /proc/<pid>/exe names the file itself: KUBEBUILDER_ASSETS may be a
	// symbolic link (bin/k8s of a worktree, say).
	if real, err := filepath.EvalSymlinks(bin); err == nil {
		bin = real
	}
	self := strconv.Itoa(os.Getpid())
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil || exe != bin {
			continue
		}
		if ppid, err := statusField(pid, "PPid"); err == nil && ppid == self {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no child process of %s runs %s", self, bin)
}

// controlPlane holds the pids of the envtest kube-apiserver and etcd.
type controlPlane struct{ apiserver, etcd int }

func findControlPlane(assets string) (controlPlane, error) {
	var cp controlPlane
	var err error
	if cp.apiserver, err = childByBinary(filepath.Join(assets, "kube-apiserver")); err != nil {
		return cp, err
	}
	cp.etcd, err = childByBinary(filepath.Join(assets, "etcd"))
	return cp, err
}

// cpuSample is the CPU used so far by the process measured and the control
// plane, at one instant.
type cpuSample struct{ proc, apiserver, etcd time.Duration }

func (cp controlPlane) sample(pid int) cpuSample {
	var s cpuSample
	s.proc, _ = cpuOf(pid)
	s.apiserver, _ = cpuOf(cp.apiserver)
	s.etcd, _ = cpuOf(cp.etcd)
	return s
}

func (s cpuSample) sub(o cpuSample) cpuSample {
	return cpuSample{proc: s.proc - o.proc, apiserver: s.apiserver - o.apiserver, etcd: s.etcd - o.etcd}
}

// process is a manager (the operator or the floor) the benchmark runs.
type process struct {
	cmd     *exec.Cmd
	started time.Time
	log     *os.File
	done    chan struct{} // closed when the process has exited
	err     error         // how it exited, once done is closed
}

func startProcess(bin string, args []string, logPath string) (*process, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if *flagGCTrace {
		// The managers only: set for the whole benchmark, it would also
		// reach the compiler, whose output the build cache keeps.
		cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
	}
	p := &process{cmd: cmd, log: log, done: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, err
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended (it should not, mid-run).
func (p *process) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("exited: %w", p.err)
	default:
		return nil
	}
}

// stop ends the process as a pod's would end: SIGTERM, then SIGKILL if it
// has not stopped within 30 s.
func (p *process) stop() {
	defer func() { _ = p.log.Close() }()
	if p.exited() != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// goBuild builds a main package of the repository into dir.
func goBuild(root, dir, pkg, name string, tags ...string) (string, error) {
	out := filepath.Join(dir, name)
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}
