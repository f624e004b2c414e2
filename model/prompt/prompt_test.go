package prompt

import "testing"

func TestBuild(t *testing.T) {
	hist := []Turn{{"What is in the image?", "A cat."}, {"What color is the cat?", "It is brown with black stripes."}}
	tests := []struct {
		template string
		history  []Turn
		query    string
		want     string
	}{
		{Chat, nil, "What is in the image?", "Question: What is in the image? Answer:"},
		{VQA, nil, "How many cats?", "Question: How many cats? Short answer:"},
		{Base, hist, "Describe.", "Describe."},
		// the history case of the reference's cases.json
		{Chat, hist, "Where is the cat lying?",
			"Question: What is in the image? Answer: A cat.\nQuestion: What color is the cat? Answer: It is brown with black stripes.\nQuestion: Where is the cat lying? Answer:"},
		{VQA, hist[:1], "Color?", "Question: What is in the image? Short answer: A cat.\nQuestion: Color? Short answer:"},
	}
	for _, tc := range tests {
		got, err := Build(tc.template, tc.history, tc.query)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.template, got, tc.want)
		}
	}
	if _, err := Build("chat_old", nil, "x"); err == nil {
		t.Error("unknown template accepted")
	}
}
