package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/cogedge/cogedge/kernels/metal"
)

// checkBackend validates --backend for a command: every command takes auto
// (also the zero value, for commands that fill modelFlags themselves) and
// cpu; metal and metal-sim only the commands that run on the Metal backend
// (run, chat, ground, serve, eval; bench has its own flag).
func (mf *modelFlags) checkBackend() error {
	switch mf.backend {
	case "", "auto", "cpu":
		return nil
	case "metal", "metal-sim":
		if !mf.deviceOK {
			return errUsage{fmt.Errorf("--backend %s: this command runs on the CPU only (run, chat, ground, serve and eval run on the Metal backend)", mf.backend)}
		}
		return nil
	}
	return errUsage{fmt.Errorf("--backend %q: want auto, cpu, metal or metal-sim", mf.backend)}
}

// openBackend opens the device --backend names, or returns nil for the
// CPU. auto picks Metal on darwin/arm64 when a GPU opens (and the command
// runs on it), else the CPU; --verbose says which.
func openBackend(mf *modelFlags, stderr io.Writer) (metal.Device, error) {
	name := mf.backend
	if name == "auto" || name == "" {
		name = "cpu"
		if mf.deviceOK && runtime.GOOS == "darwin" && runtime.GOARCH == "arm64" {
			dev, err := metal.Open()
			if err == nil {
				if mf.verbose {
					fmt.Fprintf(stderr, "backend: metal (%s), chosen by --backend auto\n", dev.Name())
				}
				return dev, nil
			}
			if mf.verbose {
				fmt.Fprintf(stderr, "backend: cpu (--backend auto: %v)\n", err)
			}
			return nil, nil
		}
	}
	if name == "cpu" {
		if mf.verbose {
			fmt.Fprintln(stderr, "backend: cpu")
		}
		return nil, nil
	}
	dev, err := metal.OpenNamed(name)
	if err != nil {
		if errors.Is(err, metal.ErrUnavailable) {
			return nil, fmt.Errorf("--backend %s: %w (on Linux, --backend metal-sim runs the same shaders simulated)", name, err)
		}
		return nil, fmt.Errorf("--backend %s: %w", name, err)
	}
	if mf.verbose {
		fmt.Fprintf(stderr, "backend: %s\n", dev.Name())
	}
	return dev, nil
}
