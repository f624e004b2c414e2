//go:build !linux

package metal

import "errors"

func openSim() (Device, error) {
	return nil, errors.New("metal-sim: the simulated device exists in Linux builds only")
}
