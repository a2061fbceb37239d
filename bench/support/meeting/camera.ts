/**
 * A faster fake camera for the meeting benchmark: the same picture as e2e/support/fakeMedia.ts
 * (a 640×360 canvas of one colour with a moving black/white square), painted and captured at
 * `fps` instead of fakeMedia's fixed 15, so a receiver can be held to "≥ 15 fps decoded" with
 * headroom. Installed after fakeMedia's init script: it wraps fakeMedia's getUserMedia, keeping
 * its microphone tone and replacing only the video track.
 *
 *   await useFakeMedia(context, options);
 *   await context.addInitScript(installBenchCamera, { color, fps: 30, width: 640, height: 360 });
 */
export interface BenchCameraOptions {
  color: [number, number, number];
  fps: number;
  width: number;
  height: number;
}

declare global {
  interface Window {
    __benchCamera?: { fps: number; width: number; height: number };
  }
}

/** The init script (self-contained: Playwright serialises it into the page). */
export function installBenchCamera(o: BenchCameraOptions): void {
  if (window.__benchCamera) return;
  const md = navigator.mediaDevices;
  if (!md) return;
  window.__benchCamera = { fps: o.fps, width: o.width, height: o.height };
  const inner = md.getUserMedia.bind(md);

  const camera = (): MediaStreamTrack => {
    const canvas = document.createElement('canvas');
    canvas.width = o.width;
    canvas.height = o.height;
    const g = canvas.getContext('2d')!;
    let frame = 0;
    const paint = () => {
      g.fillStyle = `rgb(${o.color[0]}, ${o.color[1]}, ${o.color[2]})`;
      g.fillRect(0, 0, o.width, o.height);
      g.fillStyle = frame % 2 ? '#000' : '#fff';
      g.fillRect((frame * 8) % (o.width - 40), 0, 40, 40);
      frame++;
    };
    paint();
    const track = canvas.captureStream(o.fps).getVideoTracks()[0]!;
    const timer = window.setInterval(() => {
      if (track.readyState === 'ended') window.clearInterval(timer);
      else paint();
    }, 1000 / o.fps);
    return track;
  };

  md.getUserMedia = async (constraints?: MediaStreamConstraints) => {
    if (!constraints?.video) return inner(constraints);
    const stream = constraints.audio ? await inner({ audio: constraints.audio }) : new MediaStream();
    stream.addTrack(camera());
    return stream;
  };
}
