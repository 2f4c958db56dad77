// Package wizard asks svcgen's interactive questions on a terminal.
//
// It is the only package of svcgen that imports a prompt library
// (github.com/AlecAivazis/survey/v2); the rest of the command line talks to
// the Prompter interface, so the library can be replaced without touching
// the commands.
package wizard

import (
	"errors"
	"io"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
)

// ErrInterrupted is returned by every prompt when the user presses Ctrl-C
// (or Ctrl-D on an empty answer).
var ErrInterrupted = errors.New("interrupted")

// Prompter asks one question at a time.
type Prompter interface {
	// Input asks for a line of text. def is offered as the default answer;
	// validate, when not nil, rejects an answer and the question is asked
	// again with its error shown.
	Input(msg, def string, validate func(string) error) (string, error)
	// Select asks for one of options. def is preselected when it is one of
	// them; describe, when not nil, shows a short description beside each
	// option.
	Select(msg string, options []string, def string, describe func(string) string) (string, error)
	// MultiSelect asks for any subset of options, with defaults checked at
	// the start; describe is as for Select.
	MultiSelect(msg string, options, defaults []string, describe func(string) string) ([]string, error)
	// Confirm asks a yes/no question.
	Confirm(msg string, def bool) (bool, error)
}

// New returns a Prompter that reads keys from in and draws on out (both a
// terminal) and writes errors to errOut.
func New(in terminal.FileReader, out terminal.FileWriter, errOut io.Writer) Prompter {
	return &surveyPrompter{opts: []survey.AskOpt{survey.WithStdio(in, out, errOut)}}
}

type surveyPrompter struct {
	opts []survey.AskOpt
}

func (p *surveyPrompter) ask(q survey.Prompt, resp any, extra ...survey.AskOpt) error {
	err := survey.AskOne(q, resp, append(append([]survey.AskOpt(nil), p.opts...), extra...)...)
	if errors.Is(err, terminal.InterruptErr) || errors.Is(err, io.EOF) {
		return ErrInterrupted
	}
	return err
}

func (p *surveyPrompter) Input(msg, def string, validate func(string) error) (string, error) {
	var answer string
	var extra []survey.AskOpt
	if validate != nil {
		extra = append(extra, survey.WithValidator(func(v any) error {
			s, _ := v.(string)
			return validate(s)
		}))
	}
	err := p.ask(&survey.Input{Message: msg, Default: def}, &answer, extra...)
	return answer, err
}

func (p *surveyPrompter) Select(msg string, options []string, def string, describe func(string) string) (string, error) {
	q := &survey.Select{Message: msg, Options: options, PageSize: pageSize(options)}
	for _, o := range options {
		if o == def {
			q.Default = def
		}
	}
	if describe != nil {
		q.Description = func(v string, _ int) string { return describe(v) }
	}
	var answer string
	err := p.ask(q, &answer)
	return answer, err
}

func (p *surveyPrompter) MultiSelect(msg string, options, defaults []string, describe func(string) string) ([]string, error) {
	q := &survey.MultiSelect{Message: msg, Options: options, PageSize: pageSize(options)}
	var checked []string
	for _, d := range defaults {
		for _, o := range options {
			if o == d {
				checked = append(checked, d)
				break
			}
		}
	}
	if len(checked) > 0 {
		q.Default = checked
	}
	if describe != nil {
		q.Description = func(v string, _ int) string { return describe(v) }
	}
	answer := []string{}
	err := p.ask(q, &answer)
	return answer, err
}

func (p *surveyPrompter) Confirm(msg string, def bool) (bool, error) {
	var answer bool
	err := p.ask(&survey.Confirm{Message: msg, Default: def}, &answer)
	return answer, err
}

// pageSize shows every option of a short list at once, and scrolls a long one.
func pageSize(options []string) int {
	if n := len(options); n < 20 {
		return max(n, 1)
	}
	return 20
}
