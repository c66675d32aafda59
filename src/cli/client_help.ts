/**
 * Help texts for `lonelypss notify` and `lonelypss subscribe`.
 *
 * @module
 */

/** Exit codes of the client commands. */
export const CLIENT_EXIT_CODES = `Exit codes:
  0   success (subscribe: stopped by SIGINT/SIGTERM or after --count messages)
  1   failure: no broadcaster reachable, a broken answer, an unreadable file
  2   wrong command line
  3   the broadcaster refused the credentials (check --secrets)`;

/** `lonelypss notify --help`. */
export const NOTIFY_HELP =
  `Usage: lonelypss notify --broadcaster URL [--secrets FILE] --topic T (--file F | --data S | -)

Publishes one message and prints how many subscribers it reached.

Options:
  --broadcaster URL   broadcaster base url, e.g. http://127.0.0.1:3003 (repeat for
                      failover; ws://…/v1/websocket publishes over a websocket)
  --secrets FILE      subscriber-secrets.json (as written by setup); default: no auth
  --topic T           the topic (UTF-8)
  --file F            send the file F (a progress bar shows on a terminal)
  --data S            send the text S
  -                   send standard input (spooled to a temp file while hashed)
  -h, --help          show this help

${CLIENT_EXIT_CODES}`;

/** `lonelypss subscribe --help`. */
export const SUBSCRIBE_HELP =
  `Usage: lonelypss subscribe --broadcaster URL [--secrets FILE] (--exact T | --glob P)...
                          [--websocket] [--exec CMD] [--count N]

Receives messages until stopped, printing each as "<topic><TAB><body>" (a body that is not
short UTF-8 text prints as its size and SHA-512), or running CMD once per message with the
body on stdin and the topic in LONELYPSS_TOPIC. Reconnects by itself; a possible loss of
messages is reported on stderr.

Options:
  --broadcaster URL   broadcaster base url, e.g. http://127.0.0.1:3003 (repeat for failover)
  --secrets FILE      subscriber-secrets.json (as written by setup); default: no auth
  --exact T           subscribe to topic T (repeatable)
  --glob P            subscribe to glob pattern P (repeatable)
  --websocket         receive over a websocket (default: webhooks)
  --receiver URL      webhooks: the url broadcasters reach this process at
                      (default http://127.0.0.1:<port>)
  --port N            webhooks: port to listen on (default: a free one)
  --host H            webhooks: interface to listen on (default 127.0.0.1)
  --exec CMD          run CMD (with sh -c) per message instead of printing
  --count N           exit after N messages
  -h, --help          show this help

${CLIENT_EXIT_CODES}`;
