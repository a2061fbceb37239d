import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { AdminLogPage } from './audit/AdminLogPage.js';
import { SignInPage } from './auth/SignInPage.js';
import { BulkImportPage } from './bulk/BulkImportPage.js';
import { VmrFormPage } from './conference/VmrFormPage.js';
import { VmrListPage } from './conference/VmrListPage.js';
import { Layout } from './layout/Layout.js';
import { CaCertificatesPage, TlsCertificatesPage } from './platform/CertificatesPage.js';
import { LocationsPage } from './platform/LocationsPage.js';
import { NodesPage } from './platform/NodesPage.js';
import { LiveStatusPage } from './status/LiveStatusPage.js';
import { ThemesPage } from './theme/ThemesPage.js';
import { BackupPage } from './utilities/BackupPage.js';
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
              <Route path="/" element={<Navigate to="/vmrs" replace />} />
              <Route path="/vmrs" element={<VmrListPage />} />
              <Route path="/vmrs/new" element={<VmrFormPage />} />
              <Route path="/vmrs/:id" element={<VmrFormPage />} />
              <Route path="/nodes" element={<NodesPage />} />
              <Route path="/locations" element={<LocationsPage />} />
              <Route path="/tls-certificates" element={<TlsCertificatesPage />} />
              <Route path="/ca-certificates" element={<CaCertificatesPage />} />
              <Route path="/status" element={<LiveStatusPage />} />
              <Route path="/admin-log" element={<AdminLogPage />} />
              <Route path="/bulk" element={<BulkImportPage />} />
              <Route path="/themes" element={<ThemesPage />} />
              <Route path="/backups" element={<BackupPage />} />
              <Route path="*" element={<p>Page not found.</p>} />
            </Route>
          </Routes>
        </BrowserRouter>
      </TRPCProvider>
    </QueryClientProvider>
  </StrictMode>,
);
