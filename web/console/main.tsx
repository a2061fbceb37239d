import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { AlarmsPage } from './alarms/AlarmsPage.js';
import { AdminLogPage } from './audit/AdminLogPage.js';
import { SupportLogPage } from './supportLog/SupportLogPage.js';
import { LoginHistoryPage } from './audit/LoginHistoryPage.js';
import { AdministratorFormPage, AdministratorsPage } from './administration/AdministratorsPage.js';
import { RoleFormPage, RolesPage } from './administration/RolesPage.js';
import { SignInPage } from './auth/SignInPage.js';
import { BulkImportPage } from './bulk/BulkImportPage.js';
import { RESOURCES } from '../../shared/config/registry.js';
import { ResourceFormPage } from './config/ResourceFormPage.js';
import { ResourceListPage } from './config/ResourceListPage.js';
import { ConferenceHistoryDetailPage } from './history/ConferenceHistoryDetailPage.js';
import { ConferenceHistoryPage } from './history/ConferenceHistoryPage.js';
import { ParticipantHistoryDetailPage } from './history/ParticipantHistoryDetailPage.js';
import { ParticipantHistoryPage } from './history/ParticipantHistoryPage.js';
import { Layout } from './layout/Layout.js';
import { LiveConferencePage } from './live/LiveConferencePage.js';
import { LiveParticipantPage } from './live/LiveParticipantPage.js';
import { LiveViewPage } from './live/LiveViewPage.js';
import { CaCertificatesPage, TlsCertificatesPage } from './platform/CertificatesPage.js';
import { NodesPage } from './platform/NodesPage.js';
import { LiveStatusPage } from './status/LiveStatusPage.js';
import { ThemesPage } from './theme/ThemesPage.js';
import { BackupPage } from './utilities/BackupPage.js';
import { RegexTesterPage } from './utilities/RegexTesterPage.js';
import { queryClient, TRPCProvider, trpcClient } from './trpc.js';
import './console.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <BrowserRouter>
          <Routes>
            <Route path="/login" element={<SignInPage />} />
            <Route element={<Layout />}>
              <Route path="/" element={<Navigate to="/live" replace />} />
              <Route path="/live" element={<LiveViewPage />} />
              <Route path="/live/conferences/:conference" element={<LiveConferencePage />} />
              <Route path="/live/conferences/:conference/participants/:participant" element={<LiveParticipantPage />} />
              {RESOURCES.flatMap((def) =>
                def.singleton
                  ? [<Route key={def.name} path={`/${def.route}`} element={<ResourceFormPage key={def.name} def={def} />} />]
                  : [
                      <Route key={def.name} path={`/${def.route}`} element={<ResourceListPage key={def.name} def={def} />} />,
                      <Route key={`${def.name}-new`} path={`/${def.route}/new`} element={<ResourceFormPage key={`${def.name}-new`} def={def} />} />,
                      <Route key={`${def.name}-edit`} path={`/${def.route}/:id`} element={<ResourceFormPage key={`${def.name}-edit`} def={def} />} />,
                    ],
              )}
              <Route path="/node-status" element={<NodesPage />} />
              <Route path="/tls-certificates" element={<TlsCertificatesPage />} />
              <Route path="/ca-certificates" element={<CaCertificatesPage />} />
              <Route path="/status" element={<LiveStatusPage />} />
              <Route path="/alarms" element={<AlarmsPage />} />
              <Route path="/history/conferences" element={<ConferenceHistoryPage />} />
              <Route path="/history/conferences/:id" element={<ConferenceHistoryDetailPage />} />
              <Route path="/history/participants" element={<ParticipantHistoryPage />} />
              <Route path="/history/participants/:id" element={<ParticipantHistoryDetailPage />} />
              <Route path="/admin-log" element={<AdminLogPage />} />
              <Route path="/support-log" element={<SupportLogPage />} />
              <Route path="/login-history" element={<LoginHistoryPage />} />
              <Route path="/bulk" element={<BulkImportPage />} />
              <Route path="/themes" element={<ThemesPage />} />
              <Route path="/backups" element={<BackupPage />} />
              <Route path="/regex-tester" element={<RegexTesterPage />} />
              <Route path="/administrators" element={<AdministratorsPage />} />
              <Route path="/administrators/new" element={<AdministratorFormPage />} />
              <Route path="/administrators/:id" element={<AdministratorFormPage />} />
              <Route path="/roles" element={<RolesPage />} />
              <Route path="/roles/new" element={<RoleFormPage />} />
              <Route path="/roles/:id" element={<RoleFormPage />} />
              <Route path="*" element={<p>Page not found.</p>} />
            </Route>
          </Routes>
        </BrowserRouter>
      </TRPCProvider>
    </QueryClientProvider>
  </StrictMode>,
);
