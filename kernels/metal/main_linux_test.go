package metal

const noDeviceReason = "simulated Metal device unavailable (needs clang++ 15 or newer; CI sets COGEDGE_REQUIRE_SIM)"

func openTestDevice() (Device, error) {
	s, err := OpenSim()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// wrapCopiesAnon: the simulator can alias only file mappings.
const wrapCopiesAnon = true
