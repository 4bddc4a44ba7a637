// Package slackfake is a protocol-faithful fake Slack workspace for tests and
// demos. It serves the Socket Mode protocol over a real WebSocket and a
// subset of the Web API over real HTTP on 127.0.0.1, so slack-go's real
// clients talk to it exactly as they would talk to Slack:
//
//	fake := slackfake.New(slackfake.Options{})
//	defer fake.Close()
//	api := slack.New(fake.BotToken(),
//		slack.OptionAppLevelToken(fake.AppToken()),
//		slack.OptionAPIURL(fake.APIURL()))
//	sm := socketmode.New(api)
//
// The fake keeps the state Slack would keep (users, channels, messages,
// threads, reactions, pins, files, views) and delivers the events Slack
// would deliver, in Slack's own envelope and payload encodings. Tests act as
// human users through methods such as PostMessage, SlashCommand, ClickButton
// and SubmitView, observe the workspace through Messages, Ephemerals, Calls
// and friends, and wait for asynchronous effects with WaitFor and WaitAck
// rather than sleeping.
//
// Faults (HTTP 500s, 429s with Retry-After, API errors, dropped sockets,
// disconnect requests, missing pings, revoked tokens, redeliveries) can be
// injected for reliability tests.
//
// Everything is safe for concurrent use; observation methods return copies.
package slackfake
