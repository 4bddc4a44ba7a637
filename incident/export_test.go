package incident

// DraftBufferSize is draftBufferSize, for the floor benchmark's writer.
const DraftBufferSize = draftBufferSize
