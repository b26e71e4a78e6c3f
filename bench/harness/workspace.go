package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// lab is the scratch directory of one benchmark run: the built binaries,
// the dev_overrides folders with the measuring wrapper, the CLI
// configuration and one folder per Terraform workspace.
type lab struct {
	dir       string
	repo      string
	terraform string
	// provider and floor are the real binaries the wrapper starts; tls is
	// the hashicorp/tls provider, "" when tlsSkip says why there is none.
	provider, floor string
	// baseline is the provider built from BENCH_BASELINE_REV, "" without.
	baseline     string
	tls, tlsSkip string
	tlsFixtures  tlsFixtures
	cliConfig    string
}

// newLab builds the provider, the floor provider and the wrapper, and
// writes a CLI configuration whose dev_overrides point Terraform at the
// wrapper for cmpv2/cmpv2 and cmpv2/cmpv2floor. Each override gets its own
// folder because Terraform picks the first file whose name starts with
// terraform-provider-<type>, and "cmpv2floor" starts with "cmpv2".
func newLab(repo, terraform, rev, baselineRev string) (*lab, error) {
	dir, err := os.MkdirTemp("", "cmpv2-bench-")
	if err != nil {
		return nil, err
	}
	l := &lab{dir: dir, repo: repo, terraform: terraform}
	bin := filepath.Join(dir, "bin")
	l.provider = filepath.Join(bin, "terraform-provider-cmpv2")
	l.floor = filepath.Join(bin, "terraform-provider-cmpv2floor")
	wrap := filepath.Join(bin, "providerwrap")
	// The provider is built from rev when one is given (for example
	// HEAD, while the working tree is being edited), else from the
	// working tree; the floor and the wrapper from the working tree.
	providerSrc := repo
	if rev != "" {
		providerSrc = filepath.Join(dir, "src")
		if err := exportRevision(repo, rev, providerSrc); err != nil {
			return l, err
		}
	}
	builds := []struct{ out, pkg, dir string }{
		{l.provider, ".", providerSrc},
		{l.floor, "./bench/floorprovider", repo},
		{wrap, "./bench/providerwrap", repo},
	}
	if baselineRev != "" {
		src := filepath.Join(dir, "baseline-src")
		if err := exportRevision(repo, baselineRev, src); err != nil {
			return l, err
		}
		l.baseline = filepath.Join(bin, "terraform-provider-cmpv2-baseline")
		builds = append(builds, struct{ out, pkg, dir string }{l.baseline, ".", src})
	}
	for _, b := range builds {
		if err := goBuild(b.dir, b.out, b.pkg); err != nil {
			return l, err
		}
	}
	if l.tls, l.tlsSkip, err = tlsProvider(bin); err != nil {
		return l, err
	}
	if l.tlsFixtures, err = newTLSFixtures(); err != nil {
		return l, err
	}
	overrides := map[string]string{
		"cmpv2/cmpv2":      filepath.Join(dir, "override-cmpv2", "terraform-provider-cmpv2"),
		"cmpv2/cmpv2floor": filepath.Join(dir, "override-floor", "terraform-provider-cmpv2floor"),
		"hashicorp/tls":    filepath.Join(dir, "override-tls", "terraform-provider-tls"),
	}
	var cfg strings.Builder
	cfg.WriteString("provider_installation {\n  dev_overrides {\n")
	for addr, file := range overrides {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return l, err
		}
		if err := copyFile(wrap, file); err != nil {
			return l, err
		}
		fmt.Fprintf(&cfg, "    %q = %q\n", addr, filepath.Dir(file))
	}
	cfg.WriteString("  }\n  direct {}\n}\n")
	l.cliConfig = filepath.Join(dir, "cli.tfrc")
	return l, os.WriteFile(l.cliConfig, []byte(cfg.String()), 0o644)
}

func (l *lab) close() { os.RemoveAll(l.dir) }

// exportRevision writes the files of a git revision into dir.
func exportRevision(repo, rev, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("sh", "-c", `git archive --format=tar "$1" | tar -x -C "$2"`, "sh", rev, dir)
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git archive %s: %v\n%s", rev, err, out)
	}
	return nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}

// workspace is one Terraform working directory.
type workspace struct {
	lab  *lab
	dir  string
	kind kind
	env  []string
	// exec, when set, is the provider binary the wrapper starts instead
	// of the kind's.
	exec string
}

func (l *lab) workspace(name string, k kind, env []string) (*workspace, error) {
	dir := filepath.Join(l.dir, "ws", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &workspace{lab: l, dir: dir, kind: k, env: env}, nil
}

// measurement is one timed Terraform command.
type measurement struct {
	WallSec float64 `json:"wall_s"`
	// CPUSec is user + system time of terraform and every process it
	// waited for (the provider plugins): the rusage wait4 returns.
	CPUSec float64 `json:"cpu_s"`
	// TerraformMaxRSSMiB is ru_maxrss of that rusage: the largest of
	// terraform and its children, in practice terraform itself.
	TerraformMaxRSSMiB float64 `json:"terraform_max_rss_mib"`
	// ProviderCPUSec and ProviderMaxRSSMiB cover the provider processes
	// alone (summed CPU, largest peak RSS), from the wrapper's records;
	// zero for terraform_data, which runs inside terraform.
	ProviderCPUSec    float64 `json:"provider_cpu_s"`
	ProviderMaxRSSMiB float64 `json:"provider_max_rss_mib"`
	ProviderProcesses int     `json:"provider_processes"`
	// StateBytes is the size of terraform.tfstate after the command.
	StateBytes int64 `json:"state_bytes"`
	// Changes is what the plan or apply summary line reported.
	Summary string `json:"summary"`
}

// run runs terraform with args in the workspace and measures it. The
// command's output goes to a log file beside the configuration; an error
// quotes its tail.
func (w *workspace) run(label string, args ...string) (measurement, error) {
	wrapLog := filepath.Join(w.dir, label+".rusage.jsonl")
	logPath := filepath.Join(w.dir, label+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return measurement{}, err
	}
	defer logFile.Close()
	cmd := exec.Command(w.lab.terraform, args...)
	cmd.Dir = w.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(baseEnv(),
		"TF_CLI_CONFIG_FILE="+w.lab.cliConfig,
		"CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1",
		"BENCH_WRAP_LOG="+wrapLog,
	)
	if os.Getenv("BENCH_SDK_LOG") == "trace" {
		// The SDKs' own default, which internal/pluginlog turns off:
		// TRACE lines Terraform parses only to drop them. For A/B runs;
		// both providers alike.
		cmd.Env = append(cmd.Env, "TF_LOG_SDK=TRACE", "TF_LOG_SDK_FRAMEWORK=TRACE", "TF_LOG_SDK_PROTO=TRACE")
	}
	cmd.Env = append(cmd.Env, w.env...)
	switch {
	case w.exec != "":
		cmd.Env = append(cmd.Env, "BENCH_WRAP_EXEC="+w.exec)
	case w.kind == kindPlugin || w.kind == kindMinimal:
		cmd.Env = append(cmd.Env, "BENCH_WRAP_EXEC="+w.lab.floor)
	case isTLS(w.kind):
		cmd.Env = append(cmd.Env, "BENCH_WRAP_EXEC="+w.lab.tls)
	case w.kind == kindCMPv2:
		cmd.Env = append(cmd.Env, "BENCH_WRAP_EXEC="+w.lab.provider)
	case w.kind == kindBaseline:
		cmd.Env = append(cmd.Env, "BENCH_WRAP_EXEC="+w.lab.baseline)
	}
	start := time.Now()
	runErr := cmd.Run()
	m := measurement{WallSec: time.Since(start).Seconds()}
	if ps := cmd.ProcessState; ps != nil {
		m.CPUSec = ps.UserTime().Seconds() + ps.SystemTime().Seconds()
		m.TerraformMaxRSSMiB = maxRSSMiB(ps)
	}
	if st, err := os.Stat(filepath.Join(w.dir, "terraform.tfstate")); err == nil {
		m.StateBytes = st.Size()
	}
	if err := readWrapLog(wrapLog, &m); err != nil {
		return m, err
	}
	m.Summary = summaryLine(logPath)
	if runErr != nil {
		// plan -detailed-exitcode exits 2 when there are changes.
		if ee, ok := runErr.(*exec.ExitError); ok && ee.ExitCode() == 2 && args[0] == "plan" {
			return m, nil
		}
		return m, fmt.Errorf("terraform %s in %s: %v\n%s", strings.Join(args, " "), w.dir, runErr, tail(logPath, 40))
	}
	return m, nil
}

// baseEnv is the environment without settings that would change what
// Terraform does: the machine may name a CLI configuration that does not
// exist, and TF_LOG would slow every run down.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TF_") || strings.HasPrefix(name, "CMPV2_") || name == "BENCH_WRAP_EXEC" || name == "BENCH_WRAP_LOG" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func readWrapLog(path string, m *measurement) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var u struct {
			UserSec   float64 `json:"user_s"`
			SysSec    float64 `json:"sys_s"`
			MaxRSSKiB int64   `json:"max_rss_kib"`
		}
		if err := json.Unmarshal(sc.Bytes(), &u); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		m.ProviderProcesses++
		m.ProviderCPUSec += u.UserSec + u.SysSec
		m.ProviderMaxRSSMiB = max(m.ProviderMaxRSSMiB, float64(u.MaxRSSKiB)/1024)
	}
	return sc.Err()
}

// summaryLine is the last "Plan:", "Apply complete!" or "No changes." line.
func summaryLine(logPath string) string {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return ""
	}
	var last string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "Plan:") || strings.HasPrefix(line, "Apply complete!") || strings.HasPrefix(line, "No changes.") {
			last = line
		}
	}
	return last
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
