package amqpconn

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxName is the longest name AMQP can carry (a short string).
const MaxName = 255

// CheckName says why the broker would not take name as it is for a queue
// or an exchange. RabbitMQ removes CR and LF from the name it declares or
// checks, while publishing uses the name as given: "a\nb" declares "ab",
// and every message to "a\nb" is unroutable (for an exchange, the channel
// is closed). A name that is not UTF-8 makes it close the connection
// (FRAME_ERROR), and one over MaxName bytes cannot be encoded at all. Every
// other byte, NUL and spaces included, is kept as it is. The error says
// what is wrong, without naming the name's source: "is 300 bytes long...".
func CheckName(name string) error {
	switch {
	case strings.ContainsAny(name, "\r\n"):
		return fmt.Errorf("%q contains a line break, which RabbitMQ removes from names: it would use %q",
			name, strings.NewReplacer("\r", "", "\n", "").Replace(name))
	case !utf8.ValidString(name):
		return fmt.Errorf("%q is not valid UTF-8, which RabbitMQ refuses in names (it closes the connection)", name)
	case len(name) > MaxName:
		return fmt.Errorf("is %d bytes long; AMQP allows at most %d", len(name), MaxName)
	}
	return nil
}

// CheckDeclare is CheckName for a queue hms declares, with its dead-letter
// queue Q.dead: both must be names the broker takes as they are, and
// RabbitMQ refuses to declare a queue whose name starts with "amq.".
func CheckDeclare(name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if strings.HasPrefix(name, "amq.") {
		return fmt.Errorf("%q starts with \"amq.\", which RabbitMQ reserves for its own queues", name)
	}
	if len(DeadName(name)) > MaxName {
		return fmt.Errorf("is %d bytes long; a queue hms declares may have at most %d, so that its dead-letter queue Q.dead fits AMQP's %d",
			len(name), MaxName-len(DeadName("")), MaxName)
	}
	return nil
}
