import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { MeetingApp } from './MeetingApp.js';
import './webapp.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MeetingApp />
  </StrictMode>,
);
