package browsertest

import (
	"slices"
	"testing"
)

func TestForeign(t *testing.T) {
	reqs := []string{
		"http://127.0.0.1:8080/",
		"http://127.0.0.1:8080/app.js",
		"data:image/png;base64,iVBORw0KGgo=",
		"blob:http://127.0.0.1:8080/4f1c",
		"http://127.0.0.1:8081/v1/models",   // another port is another server
		"https://127.0.0.1:8080/",           // another scheme too
		"http://localhost:8080/",            // and another name for the same machine
		"https://fonts.example.com/a.woff2", // the kind of request the test exists to catch
		"%zz",                               // unparsable: counted, never waved through
	}
	want := []string{
		"http://127.0.0.1:8081/v1/models",
		"https://127.0.0.1:8080/",
		"http://localhost:8080/",
		"https://fonts.example.com/a.woff2",
		"%zz",
	}
	if got := Foreign(reqs, "http://127.0.0.1:8080"); !slices.Equal(got, want) {
		t.Errorf("Foreign = %q, want %q", got, want)
	}
}
