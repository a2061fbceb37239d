import { useEffect, useReducer, useRef, type FormEvent } from 'react';
import type { LocalPreview } from '../prejoin/LocalPreview.js';
import { CameraIcon, MicIcon } from '../call/icons.js';

interface Props {
  alias: string;
  name: string;
  onAlias: (alias: string) => void;
  onName: (name: string) => void;
  preview: LocalPreview | null;
  joining: boolean;
  /** Why the last attempt failed: the plain text, and the guide's string when it says less. */
  message?: { text: string; detail?: string };
  onJoin: () => void;
}

/** Before joining: the mirrored camera preview, microphone and camera on/off, device pickers, alias and name. */
export function PreJoin({ alias, name, onAlias, onName, preview, joining, message, onJoin }: Props) {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  useEffect(() => preview?.on('change', rerender), [preview]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onJoin();
  };
  const video = preview?.stream.getVideoTracks()[0];
  const audio = preview?.stream.getAudioTracks()[0];
  return (
    <main className="join prejoin">
      <h1>Join a meeting</h1>
      <div className="prejoin-body">
        <section className="preview" aria-label="Camera preview">
          <div className="preview-video">
            {video && preview?.cameraOn ? <StreamVideo stream={preview.stream} /> : <p className="preview-off">{video ? 'Camera is off' : 'No camera'}</p>}
            <div className="preview-toggles">
              <button
                type="button"
                className={preview?.micOn && audio ? 'round' : 'round off'}
                aria-pressed={!(preview?.micOn ?? true)}
                aria-label={preview?.micOn ? 'Turn microphone off' : 'Turn microphone on'}
                disabled={!audio}
                onClick={() => preview?.setMicOn(!preview.micOn)}
              >
                <MicIcon off={!preview?.micOn || !audio} />
              </button>
              <button
                type="button"
                className={preview?.cameraOn && video ? 'round' : 'round off'}
                aria-pressed={!(preview?.cameraOn ?? true)}
                aria-label={preview?.cameraOn ? 'Turn camera off' : 'Turn camera on'}
                disabled={!video}
                onClick={() => preview?.setCameraOn(!preview.cameraOn)}
              >
                <CameraIcon off={!preview?.cameraOn || !video} />
              </button>
            </div>
          </div>
          {preview && preview.microphones.length > 0 && (
            <label>
              Microphone
              <select value={preview.micId ?? ''} onChange={(e) => void preview.choose('audio', e.target.value)}>
                {preview.microphones.map((d, i) => (
                  <option key={d.deviceId} value={d.deviceId}>
                    {d.label || `Microphone ${i + 1}`}
                  </option>
                ))}
              </select>
            </label>
          )}
          {preview && preview.cameras.length > 0 && (
            <label>
              Camera
              <select value={preview.cameraId ?? ''} onChange={(e) => void preview.choose('video', e.target.value)}>
                {preview.cameras.map((d, i) => (
                  <option key={d.deviceId} value={d.deviceId}>
                    {d.label || `Camera ${i + 1}`}
                  </option>
                ))}
              </select>
            </label>
          )}
          {preview?.problem && <p className="hint">{preview.problem}</p>}
        </section>
        <form onSubmit={submit}>
          <label>
            Meeting alias
            <input required value={alias} autoComplete="off" onChange={(e) => onAlias(e.target.value)} />
          </label>
          <label>
            Your name
            <input required value={name} autoComplete="name" maxLength={100} onChange={(e) => onName(e.target.value)} />
          </label>
          {message && (
            <p role="alert">
              {message.text}
              {message.detail && <small className="detail"> ({message.detail})</small>}
            </p>
          )}
          <button type="submit" disabled={joining}>
            {joining ? 'Joining…' : 'Join'}
          </button>
        </form>
      </div>
    </main>
  );
}

/** A stream in a mirrored <video> (the self view and preview: people expect a mirror). */
export function StreamVideo({ stream, className = 'mirror' }: { stream: MediaStream; className?: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const v = ref.current;
    if (!v) return;
    if (v.srcObject !== stream) v.srcObject = stream;
    v.play().catch(() => undefined);
  }, [stream]);
  return <video ref={ref} className={className} data-testid="preview-video" autoPlay playsInline muted />;
}
