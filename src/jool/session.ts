/**
 * Session entries as they travel inside a SESSION_ENTRIES attribute (the
 * kernel's batches, the UDP payload between daemons, JOOLD_ADD): the model
 * and the table of encodings (session_layout.ts), the
 * strict check and the decoder (session_decode.ts), the encoder
 * (session_encode.ts). Import them from here.
 *
 * @module
 */

export {
  ALL_SESSION_ENCODINGS,
  type Session,
  SESSION_ENCODINGS,
  type SessionEncoding,
  sessionEncodingFor,
  sessionEntryLength,
  type SessionProtocol,
  TABLE_READ_ENCODING,
  type TransportAddress,
} from "./session_layout.ts";
export {
  decodeSessions,
  SessionDecodeError,
  SessionValidator,
  validateSessions,
} from "./session_decode.ts";
export { encodeSessions } from "./session_encode.ts";
