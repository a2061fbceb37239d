import type { ReactNode } from 'react';

/** Small inline icons (decorative: the buttons carry the labels). */
const svg = (children: ReactNode) => (
  <svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="20" height="20">
    {children}
  </svg>
);
const slash = <path stroke="currentColor" strokeWidth="2.2" strokeLinecap="round" d="M4 4l16 16" />;

export function MicIcon({ off = false }: { off?: boolean }) {
  return svg(
    <>
      <path
        fill="currentColor"
        d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3Zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2Z"
      />
      {off && slash}
    </>,
  );
}

export function CameraIcon({ off = false }: { off?: boolean }) {
  return svg(
    <>
      <path fill="currentColor" d="M4 6h11a2 2 0 0 1 2 2v2.5l4-2.5v8l-4-2.5V16a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2Z" />
      {off && slash}
    </>,
  );
}

export function ScreenIcon() {
  return svg(<path fill="currentColor" d="M3 4h18a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1h-7v2h3v2H7v-2h3v-2H3a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1Zm1 2v9h16V6H4Z" />);
}

export function PeopleIcon() {
  return svg(
    <path
      fill="currentColor"
      d="M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8Zm7 0a3 3 0 1 0 0-6 3 3 0 0 0 0 6ZM2 20c0-3.3 3.1-6 7-6s7 2.7 7 6H2Zm15 0c0-2-.8-3.8-2.1-5.1.7-.2 1.4-.3 2.1-.3 2.8 0 5 1.9 5 4.4V20h-5Z"
    />,
  );
}

export function ChatIcon() {
  return svg(<path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2Z" />);
}

export function HandIcon() {
  return svg(
    <path
      fill="currentColor"
      d="M12 2a1.5 1.5 0 0 1 1.5 1.5V11h1V4.5a1.5 1.5 0 0 1 3 0V12h1V7.5a1.5 1.5 0 0 1 3 0V15a7 7 0 0 1-7 7h-1a7 7 0 0 1-6.1-3.6L3 14.2a1.5 1.5 0 0 1 2.5-1.6L7.5 15V5.5a1.5 1.5 0 0 1 3 0V11h0V3.5A1.5 1.5 0 0 1 12 2Z"
    />,
  );
}

export function LeaveIcon() {
  return svg(
    <path
      fill="currentColor"
      d="M12 9c-3.2 0-6.2.8-8.8 2.3-.8.5-1.2 1.4-1 2.3l.4 1.7c.2.9 1.2 1.4 2 1.1l3-1.2c.6-.2 1-.8 1-1.5v-1.6a13 13 0 0 1 6.8 0v1.6c0 .7.4 1.3 1 1.5l3 1.2c.8.3 1.8-.2 2-1.1l.4-1.7c.2-.9-.2-1.8-1-2.3A17.6 17.6 0 0 0 12 9Z"
    />,
  );
}
