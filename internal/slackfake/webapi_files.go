package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Files are uploaded in Slack's three steps: files.getUploadURLExternal
// hands out an upload URL, the client POSTs the bytes there (multipart,
// field "file"), and files.completeUploadExternal shares the file.

func (f *file) snapshot() File {
	out := f.File
	out.Content = append([]byte(nil), f.Content...)
	out.Channels = append([]string(nil), f.Channels...)
	return out
}

func (s *Server) apiFilesGetUploadURL(r *apiRequest) (obj, error) {
	name := r.get("filename")
	length, err := strconv.Atoi(r.get("length"))
	if name == "" || err != nil || length <= 0 {
		return nil, apiError("invalid_arguments")
	}
	f := &file{File: File{ID: s.nextIDLocked("F"), Name: name, Title: name, User: s.opts.BotUserID},
		created: s.opts.Now(), size: length}
	s.files[f.ID] = f
	s.fileOrder = append(s.fileOrder, f.ID)
	// The upload URL shares the API's scheme and host: slack-go only sends
	// its token to Slack hosts or to the configured API URL.
	return obj{"upload_url": s.srv.URL + "/upload/v1/" + f.ID, "file_id": f.ID}, nil
}

// handleUpload receives the file bytes. Like files.slack.com it answers
// "OK - <bytes>" as text.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/v1/")
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var content []byte
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		part, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, "missing file field", http.StatusBadRequest)
			return
		}
		content, err = io.ReadAll(part)
		_ = part.Close()
		if err != nil {
			http.Error(w, "read error", http.StatusBadRequest)
			return
		}
	} else {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read error", http.StatusBadRequest)
			return
		}
		content = b
	}
	s.mu.Lock()
	f := s.files[id]
	if f != nil {
		f.Content, f.size, f.uploaded = content, len(content), true
		s.notifyLocked()
	}
	s.mu.Unlock()
	if f == nil {
		http.Error(w, "no such upload", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = fmt.Fprintf(w, "OK - %d", len(content))
}

// handleFileDownload serves url_private links, so slack-go's GetFile works.
func (s *Server) handleFileDownload(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/files-pri/")
	teamFile, _, _ := strings.Cut(rest, "/")
	_, id, _ := strings.Cut(teamFile, "-")
	s.mu.Lock()
	f := s.files[id]
	var content []byte
	if f != nil {
		content = append([]byte(nil), f.Content...)
	}
	auth := r.Header.Get("Authorization") == "Bearer "+s.opts.BotToken && !s.revoked
	s.mu.Unlock()
	if f == nil || !auth {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	_, _ = w.Write(content)
}

func (s *Server) apiFilesComplete(r *apiRequest) (obj, error) {
	var list []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if json.Unmarshal([]byte(r.get("files")), &list) != nil || len(list) == 0 {
		return nil, apiError("invalid_arguments")
	}
	var fs []*file
	for _, item := range list {
		f := s.files[item.ID]
		if f == nil || !f.uploaded || f.complete {
			return nil, apiError("file_not_found")
		}
		if item.Title != "" {
			f.Title = item.Title
		}
		fs = append(fs, f)
	}
	var targets []*channel
	refs := r.get("channels")
	if id := r.get("channel_id"); id != "" {
		refs = id
	}
	for ref := range strings.SplitSeq(refs, ",") {
		if ref = strings.TrimSpace(ref); ref == "" {
			continue
		}
		c, err := s.botChannelLocked(ref)
		if err != nil {
			return nil, err
		}
		targets = append(targets, c)
	}
	var summaries []obj
	var ids []string
	for _, f := range fs {
		f.complete = true
		ids = append(ids, f.ID)
		summaries = append(summaries, obj{"id": f.ID, "title": f.Title})
	}
	for _, c := range targets {
		m := &message{
			user: s.opts.BotUserID, botID: s.opts.BotID, files: ids,
			text: r.get("initial_comment"),
		}
		if ts := r.get("thread_ts"); ts != "" {
			p, err := threadParentLocked(c, ts)
			if err != nil {
				return nil, err
			}
			m.threadTS = p.ts
		}
		for _, f := range fs {
			f.Channels = append(f.Channels, c.ID)
		}
		s.postLocked(c, m)
		for _, f := range fs {
			s.publishLocked(Event{Kind: EventFileShared, Channel: c.ID, User: s.opts.BotUserID, File: ptr(f.snapshot())})
		}
	}
	return obj{"files": summaries}, nil
}

func (s *Server) apiFilesInfo(r *apiRequest) (obj, error) {
	f := s.files[r.get("file")]
	if f == nil || !f.complete {
		return nil, apiError("file_not_found")
	}
	return obj{"file": s.fileWireLocked(f), "comments": []any{}, "response_metadata": obj{"next_cursor": ""}}, nil
}

// Files returns every completed upload, oldest first.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, id := range s.fileOrder {
		if f := s.files[id]; f.complete {
			out = append(out, f.snapshot())
		}
	}
	return out
}
