package capture

// This file links file filtering to CompileFilter (capture/filter.go).

func init() {
	newFileFilter = func(expr string, snaplen int, rd recordReader) (*fileFilter, error) {
		return newVMFilter(expr, snaplen, rd, CompileFilter)
	}
}
