package metal

func openSim() (Device, error) { return OpenSim() }
