/*
 * classes.h - the one declaration of every WMI class winrmd answers
 * (root/cimv2), read by lib/wmi/schema.c (the tables the listener renders
 * from) and by the provider host's collectors (property indexes).
 *
 * Adding a class: its block here (properties, methods), one line in
 * WMI_CLASSES, and one collector file under provider/classes/ defining
 * provider_<Class> (provider/classes.h).  Nothing else lists classes.
 *
 * WMI_PROPS_<Class>(P) calls P(name, TYPE, FLAGS) per property, where TYPE
 * is an enum wmi_type without its WMI_ prefix and FLAGS is 0, KEY, ARRAY
 * or KEY|ARRAY.  Properties are Windows' own (the CIMWin32 MOF as Windows
 * Server 2012 renders it, null arrays included), in the order Windows
 * renders them: case-insensitively sorted by name, which the unit test
 * checks.  A property winrmd has no Linux source for stays in the list
 * and is rendered nil, so that every query Windows accepts is accepted.
 *
 * WMI_METHODS_<Class>(M, I, O) calls M(name, FLAGS) per method (FLAGS 0,
 * STATIC, ADMIN for administrators only, or STATIC|ADMIN), followed by
 * I(name, TYPE) per input and O(name, TYPE) per output parameter, outputs
 * in alphabetical order (ReturnValue, a uint32, is implicit).
 *
 * Where each value comes from on Linux: man/winrmd-wmi.8.
 */
#ifndef WINRMD_WMI_CLASSES_H
#define WINRMD_WMI_CLASSES_H

/* clang-format off */

/* The classes: C(Class, FLAGS), FLAGS 0 or SINGLETON. */
#define WMI_CLASSES(C)                                                        \
	C(Win32_ComputerSystem, 0)                                            \
	C(Win32_Group, 0)                                                     \
	C(Win32_LocalTime, SINGLETON)                                         \
	C(Win32_LogicalDisk, 0)                                               \
	C(Win32_NetworkAdapterConfiguration, 0)                               \
	C(Win32_OperatingSystem, SINGLETON)                                   \
	C(Win32_Process, 0)                                                   \
	C(Win32_Processor, 0)                                                 \
	C(Win32_Service, 0)                                                   \
	C(Win32_UserAccount, 0)                                               \
	C(Win32_UTCTime, SINGLETON)

#define WMI_PROPS_Win32_ComputerSystem(P)                                     \
	P(AdminPasswordStatus, UINT16, 0)                                     \
	P(AutomaticManagedPagefile, BOOLEAN, 0)                               \
	P(AutomaticResetBootOption, BOOLEAN, 0)                               \
	P(AutomaticResetCapability, BOOLEAN, 0)                               \
	P(BootOptionOnLimit, UINT16, 0)                                       \
	P(BootOptionOnWatchDog, UINT16, 0)                                    \
	P(BootROMSupported, BOOLEAN, 0)                                       \
	P(BootStatus, UINT16, ARRAY)                                          \
	P(BootupState, STRING, 0)                                             \
	P(Caption, STRING, 0)                                                 \
	P(ChassisBootupState, UINT16, 0)                                      \
	P(CreationClassName, STRING, 0)                                       \
	P(CurrentTimeZone, SINT16, 0)                                         \
	P(DaylightInEffect, BOOLEAN, 0)                                       \
	P(Description, STRING, 0)                                             \
	P(DNSHostName, STRING, 0)                                             \
	P(Domain, STRING, 0)                                                  \
	P(DomainRole, UINT16, 0)                                              \
	P(EnableDaylightSavingsTime, BOOLEAN, 0)                              \
	P(FrontPanelResetStatus, UINT16, 0)                                   \
	P(HypervisorPresent, BOOLEAN, 0)                                      \
	P(InfraredSupported, BOOLEAN, 0)                                      \
	P(InitialLoadInfo, STRING, ARRAY)                                     \
	P(InstallDate, DATETIME, 0)                                           \
	P(KeyboardPasswordStatus, UINT16, 0)                                  \
	P(LastLoadInfo, STRING, 0)                                            \
	P(Manufacturer, STRING, 0)                                            \
	P(Model, STRING, 0)                                                   \
	P(Name, STRING, KEY)                                                  \
	P(NameFormat, STRING, 0)                                              \
	P(NetworkServerModeEnabled, BOOLEAN, 0)                               \
	P(NumberOfLogicalProcessors, UINT32, 0)                               \
	P(NumberOfProcessors, UINT32, 0)                                      \
	P(OEMLogoBitmap, UINT8, ARRAY)                                        \
	P(OEMStringArray, STRING, ARRAY)                                      \
	P(PartOfDomain, BOOLEAN, 0)                                           \
	P(PauseAfterReset, SINT64, 0)                                         \
	P(PCSystemType, UINT16, 0)                                            \
	P(PowerManagementCapabilities, UINT16, ARRAY)                         \
	P(PowerManagementSupported, BOOLEAN, 0)                               \
	P(PowerOnPasswordStatus, UINT16, 0)                                   \
	P(PowerState, UINT16, 0)                                              \
	P(PowerSupplyState, UINT16, 0)                                        \
	P(PrimaryOwnerContact, STRING, 0)                                     \
	P(PrimaryOwnerName, STRING, 0)                                        \
	P(ResetCapability, UINT16, 0)                                         \
	P(ResetCount, SINT16, 0)                                              \
	P(ResetLimit, SINT16, 0)                                              \
	P(Roles, STRING, ARRAY)                                               \
	P(Status, STRING, 0)                                                  \
	P(SupportContactDescription, STRING, ARRAY)                           \
	P(SystemStartupDelay, UINT16, 0)                                      \
	P(SystemStartupOptions, STRING, ARRAY)                                \
	P(SystemStartupSetting, UINT8, 0)                                     \
	P(SystemType, STRING, 0)                                              \
	P(ThermalState, UINT16, 0)                                            \
	P(TotalPhysicalMemory, UINT64, 0)                                     \
	P(UserName, STRING, 0)                                                \
	P(WakeUpType, UINT16, 0)                                              \
	P(Workgroup, STRING, 0)
#define WMI_METHODS_Win32_ComputerSystem(M, I, O)

#define WMI_PROPS_Win32_Group(P)                                              \
	P(Caption, STRING, 0)                                                 \
	P(Description, STRING, 0)                                             \
	P(Domain, STRING, KEY)                                                \
	P(InstallDate, DATETIME, 0)                                           \
	P(LocalAccount, BOOLEAN, 0)                                           \
	P(Name, STRING, KEY)                                                  \
	P(SID, STRING, 0)                                                     \
	P(SIDType, UINT8, 0)                                                  \
	P(Status, STRING, 0)
#define WMI_METHODS_Win32_Group(M, I, O)

/* Win32_LocalTime and Win32_UTCTime (Win32_CurrentTime's properties) */
#define WMI_PROPS_Win32_CurrentTime(P)                                        \
	P(Day, UINT32, 0)                                                     \
	P(DayOfWeek, UINT32, 0)                                               \
	P(Hour, UINT32, 0)                                                    \
	P(Milliseconds, UINT32, 0)                                            \
	P(Minute, UINT32, 0)                                                  \
	P(Month, UINT32, 0)                                                   \
	P(Quarter, UINT32, 0)                                                 \
	P(Second, UINT32, 0)                                                  \
	P(WeekInMonth, UINT32, 0)                                             \
	P(Year, UINT32, 0)
#define WMI_PROPS_Win32_LocalTime(P) WMI_PROPS_Win32_CurrentTime(P)
#define WMI_METHODS_Win32_LocalTime(M, I, O)
#define WMI_PROPS_Win32_UTCTime(P) WMI_PROPS_Win32_CurrentTime(P)
#define WMI_METHODS_Win32_UTCTime(M, I, O)

#define WMI_PROPS_Win32_LogicalDisk(P)                                        \
	P(Access, UINT16, 0)                                                  \
	P(Availability, UINT16, 0)                                            \
	P(BlockSize, UINT64, 0)                                               \
	P(Caption, STRING, 0)                                                 \
	P(Compressed, BOOLEAN, 0)                                             \
	P(ConfigManagerErrorCode, UINT32, 0)                                  \
	P(ConfigManagerUserConfig, BOOLEAN, 0)                                \
	P(CreationClassName, STRING, 0)                                       \
	P(Description, STRING, 0)                                             \
	P(DeviceID, STRING, KEY)                                              \
	P(DriveType, UINT32, 0)                                               \
	P(ErrorCleared, BOOLEAN, 0)                                           \
	P(ErrorDescription, STRING, 0)                                        \
	P(ErrorMethodology, STRING, 0)                                        \
	P(FileSystem, STRING, 0)                                              \
	P(FreeSpace, UINT64, 0)                                               \
	P(InstallDate, DATETIME, 0)                                           \
	P(LastErrorCode, UINT32, 0)                                           \
	P(MaximumComponentLength, UINT32, 0)                                  \
	P(MediaType, UINT32, 0)                                               \
	P(Name, STRING, 0)                                                    \
	P(NumberOfBlocks, UINT64, 0)                                          \
	P(PNPDeviceID, STRING, 0)                                             \
	P(PowerManagementCapabilities, UINT16, ARRAY)                         \
	P(PowerManagementSupported, BOOLEAN, 0)                               \
	P(ProviderName, STRING, 0)                                            \
	P(Purpose, STRING, 0)                                                 \
	P(QuotasDisabled, BOOLEAN, 0)                                         \
	P(QuotasIncomplete, BOOLEAN, 0)                                       \
	P(QuotasRebuilding, BOOLEAN, 0)                                       \
	P(Size, UINT64, 0)                                                    \
	P(Status, STRING, 0)                                                  \
	P(StatusInfo, UINT16, 0)                                              \
	P(SupportsDiskQuotas, BOOLEAN, 0)                                     \
	P(SupportsFileBasedCompression, BOOLEAN, 0)                           \
	P(SystemCreationClassName, STRING, 0)                                 \
	P(SystemName, STRING, 0)                                              \
	P(VolumeDirty, BOOLEAN, 0)                                            \
	P(VolumeName, STRING, 0)                                              \
	P(VolumeSerialNumber, STRING, 0)
#define WMI_METHODS_Win32_LogicalDisk(M, I, O)

#define WMI_PROPS_Win32_NetworkAdapterConfiguration(P)                        \
	P(ArpAlwaysSourceRoute, BOOLEAN, 0)                                   \
	P(ArpUseEtherSNAP, BOOLEAN, 0)                                        \
	P(Caption, STRING, 0)                                                 \
	P(DatabasePath, STRING, 0)                                            \
	P(DeadGWDetectEnabled, BOOLEAN, 0)                                    \
	P(DefaultIPGateway, STRING, ARRAY)                                    \
	P(DefaultTOS, UINT8, 0)                                               \
	P(DefaultTTL, UINT8, 0)                                               \
	P(Description, STRING, 0)                                             \
	P(DHCPEnabled, BOOLEAN, 0)                                            \
	P(DHCPLeaseExpires, DATETIME, 0)                                      \
	P(DHCPLeaseObtained, DATETIME, 0)                                     \
	P(DHCPServer, STRING, 0)                                              \
	P(DNSDomain, STRING, 0)                                               \
	P(DNSDomainSuffixSearchOrder, STRING, ARRAY)                          \
	P(DNSEnabledForWINSResolution, BOOLEAN, 0)                            \
	P(DNSHostName, STRING, 0)                                             \
	P(DNSServerSearchOrder, STRING, ARRAY)                                \
	P(DomainDNSRegistrationEnabled, BOOLEAN, 0)                           \
	P(ForwardBufferMemory, UINT32, 0)                                     \
	P(FullDNSRegistrationEnabled, BOOLEAN, 0)                             \
	P(GatewayCostMetric, UINT16, ARRAY)                                   \
	P(IGMPLevel, UINT8, 0)                                                \
	P(Index, UINT32, KEY)                                                 \
	P(InterfaceIndex, UINT32, 0)                                          \
	P(IPAddress, STRING, ARRAY)                                           \
	P(IPConnectionMetric, UINT32, 0)                                      \
	P(IPEnabled, BOOLEAN, 0)                                              \
	P(IPFilterSecurityEnabled, BOOLEAN, 0)                                \
	P(IPPortSecurityEnabled, BOOLEAN, 0)                                  \
	P(IPSecPermitIPProtocols, STRING, ARRAY)                              \
	P(IPSecPermitTCPPorts, STRING, ARRAY)                                 \
	P(IPSecPermitUDPPorts, STRING, ARRAY)                                 \
	P(IPSubnet, STRING, ARRAY)                                            \
	P(IPUseZeroBroadcast, BOOLEAN, 0)                                     \
	P(IPXAddress, STRING, 0)                                              \
	P(IPXEnabled, BOOLEAN, 0)                                             \
	P(IPXFrameType, UINT32, ARRAY)                                        \
	P(IPXMediaType, UINT32, 0)                                            \
	P(IPXNetworkNumber, STRING, ARRAY)                                    \
	P(IPXVirtualNetNumber, STRING, 0)                                     \
	P(KeepAliveInterval, UINT32, 0)                                       \
	P(KeepAliveTime, UINT32, 0)                                           \
	P(MACAddress, STRING, 0)                                              \
	P(MTU, UINT32, 0)                                                     \
	P(NumForwardPackets, UINT32, 0)                                       \
	P(PMTUBHDetectEnabled, BOOLEAN, 0)                                    \
	P(PMTUDiscoveryEnabled, BOOLEAN, 0)                                   \
	P(ServiceName, STRING, 0)                                             \
	P(SettingID, STRING, 0)                                               \
	P(TcpipNetbiosOptions, UINT32, 0)                                     \
	P(TcpMaxConnectRetransmissions, UINT32, 0)                            \
	P(TcpMaxDataRetransmissions, UINT32, 0)                               \
	P(TcpNumConnections, UINT32, 0)                                       \
	P(TcpUseRFC1122UrgentPointer, BOOLEAN, 0)                             \
	P(TcpWindowSize, UINT16, 0)                                           \
	P(WINSEnableLMHostsLookup, BOOLEAN, 0)                                \
	P(WINSHostLookupFile, STRING, 0)                                      \
	P(WINSPrimaryServer, STRING, 0)                                       \
	P(WINSScopeID, STRING, 0)                                             \
	P(WINSSecondaryServer, STRING, 0)
#define WMI_METHODS_Win32_NetworkAdapterConfiguration(M, I, O)

#define WMI_PROPS_Win32_OperatingSystem(P)                                    \
	P(BootDevice, STRING, 0)                                              \
	P(BuildNumber, STRING, 0)                                             \
	P(BuildType, STRING, 0)                                               \
	P(Caption, STRING, 0)                                                 \
	P(CodeSet, STRING, 0)                                                 \
	P(CountryCode, STRING, 0)                                             \
	P(CreationClassName, STRING, 0)                                       \
	P(CSCreationClassName, STRING, 0)                                     \
	P(CSDVersion, STRING, 0)                                              \
	P(CSName, STRING, 0)                                                  \
	P(CurrentTimeZone, SINT16, 0)                                         \
	P(DataExecutionPrevention_32BitApplications, BOOLEAN, 0)              \
	P(DataExecutionPrevention_Available, BOOLEAN, 0)                      \
	P(DataExecutionPrevention_Drivers, BOOLEAN, 0)                        \
	P(DataExecutionPrevention_SupportPolicy, UINT8, 0)                    \
	P(Debug, BOOLEAN, 0)                                                  \
	P(Description, STRING, 0)                                             \
	P(Distributed, BOOLEAN, 0)                                            \
	P(EncryptionLevel, UINT32, 0)                                         \
	P(ForegroundApplicationBoost, UINT8, 0)                               \
	P(FreePhysicalMemory, UINT64, 0)                                      \
	P(FreeSpaceInPagingFiles, UINT64, 0)                                  \
	P(FreeVirtualMemory, UINT64, 0)                                       \
	P(InstallDate, DATETIME, 0)                                           \
	P(LargeSystemCache, UINT32, 0)                                        \
	P(LastBootUpTime, DATETIME, 0)                                        \
	P(LocalDateTime, DATETIME, 0)                                         \
	P(Locale, STRING, 0)                                                  \
	P(Manufacturer, STRING, 0)                                            \
	P(MaxNumberOfProcesses, UINT32, 0)                                    \
	P(MaxProcessMemorySize, UINT64, 0)                                    \
	P(MUILanguages, STRING, ARRAY)                                        \
	P(Name, STRING, KEY)                                                  \
	P(NumberOfLicensedUsers, UINT32, 0)                                   \
	P(NumberOfProcesses, UINT32, 0)                                       \
	P(NumberOfUsers, UINT32, 0)                                           \
	P(OperatingSystemSKU, UINT32, 0)                                      \
	P(Organization, STRING, 0)                                            \
	P(OSArchitecture, STRING, 0)                                          \
	P(OSLanguage, UINT32, 0)                                              \
	P(OSProductSuite, UINT32, 0)                                          \
	P(OSType, UINT16, 0)                                                  \
	P(OtherTypeDescription, STRING, 0)                                    \
	P(PAEEnabled, BOOLEAN, 0)                                             \
	P(PlusProductID, STRING, 0)                                           \
	P(PlusVersionNumber, STRING, 0)                                       \
	P(PortableOperatingSystem, BOOLEAN, 0)                                \
	P(Primary, BOOLEAN, 0)                                                \
	P(ProductType, UINT32, 0)                                             \
	P(RegisteredUser, STRING, 0)                                          \
	P(SerialNumber, STRING, 0)                                            \
	P(ServicePackMajorVersion, UINT16, 0)                                 \
	P(ServicePackMinorVersion, UINT16, 0)                                 \
	P(SizeStoredInPagingFiles, UINT64, 0)                                 \
	P(Status, STRING, 0)                                                  \
	P(SuiteMask, UINT32, 0)                                               \
	P(SystemDevice, STRING, 0)                                            \
	P(SystemDirectory, STRING, 0)                                         \
	P(SystemDrive, STRING, 0)                                             \
	P(TotalSwapSpaceSize, UINT64, 0)                                      \
	P(TotalVirtualMemorySize, UINT64, 0)                                  \
	P(TotalVisibleMemorySize, UINT64, 0)                                  \
	P(Version, STRING, 0)                                                 \
	P(WindowsDirectory, STRING, 0)
#define WMI_METHODS_Win32_OperatingSystem(M, I, O)                            \
	M(Reboot, ADMIN)                                                      \
	M(Shutdown, ADMIN)

#define WMI_PROPS_Win32_Process(P)                                            \
	P(Caption, STRING, 0)                                                 \
	P(CommandLine, STRING, 0)                                             \
	P(CreationClassName, STRING, 0)                                       \
	P(CreationDate, DATETIME, 0)                                          \
	P(CSCreationClassName, STRING, 0)                                     \
	P(CSName, STRING, 0)                                                  \
	P(Description, STRING, 0)                                             \
	P(ExecutablePath, STRING, 0)                                          \
	P(ExecutionState, UINT16, 0)                                          \
	P(Handle, STRING, KEY)                                                \
	P(HandleCount, UINT32, 0)                                             \
	P(InstallDate, DATETIME, 0)                                           \
	P(KernelModeTime, UINT64, 0)                                          \
	P(MaximumWorkingSetSize, UINT32, 0)                                   \
	P(MinimumWorkingSetSize, UINT32, 0)                                   \
	P(Name, STRING, 0)                                                    \
	P(OSCreationClassName, STRING, 0)                                     \
	P(OSName, STRING, 0)                                                  \
	P(OtherOperationCount, UINT64, 0)                                     \
	P(OtherTransferCount, UINT64, 0)                                      \
	P(PageFaults, UINT32, 0)                                              \
	P(PageFileUsage, UINT32, 0)                                           \
	P(ParentProcessId, UINT32, 0)                                         \
	P(PeakPageFileUsage, UINT32, 0)                                       \
	P(PeakVirtualSize, UINT64, 0)                                         \
	P(PeakWorkingSetSize, UINT32, 0)                                      \
	P(Priority, UINT32, 0)                                                \
	P(PrivatePageCount, UINT64, 0)                                        \
	P(ProcessId, UINT32, 0)                                               \
	P(QuotaNonPagedPoolUsage, UINT32, 0)                                  \
	P(QuotaPagedPoolUsage, UINT32, 0)                                     \
	P(QuotaPeakNonPagedPoolUsage, UINT32, 0)                              \
	P(QuotaPeakPagedPoolUsage, UINT32, 0)                                 \
	P(ReadOperationCount, UINT64, 0)                                      \
	P(ReadTransferCount, UINT64, 0)                                       \
	P(SessionId, UINT32, 0)                                               \
	P(Status, STRING, 0)                                                  \
	P(TerminationDate, DATETIME, 0)                                       \
	P(ThreadCount, UINT32, 0)                                             \
	P(UserModeTime, UINT64, 0)                                            \
	P(VirtualSize, UINT64, 0)                                             \
	P(WindowsVersion, STRING, 0)                                          \
	P(WorkingSetSize, UINT64, 0)                                          \
	P(WriteOperationCount, UINT64, 0)                                     \
	P(WriteTransferCount, UINT64, 0)
#define WMI_METHODS_Win32_Process(M, I, O)                                    \
	M(Create, STATIC)                                                     \
	I(CommandLine, STRING)                                                \
	I(CurrentDirectory, STRING)                                           \
	O(ProcessId, UINT32)                                                  \
	M(GetOwner, 0)                                                        \
	O(Domain, STRING)                                                     \
	O(User, STRING)                                                       \
	M(Terminate, 0)                                                       \
	I(Reason, UINT32)

#define WMI_PROPS_Win32_Processor(P)                                          \
	P(AddressWidth, UINT16, 0)                                            \
	P(Architecture, UINT16, 0)                                            \
	P(Availability, UINT16, 0)                                            \
	P(Caption, STRING, 0)                                                 \
	P(ConfigManagerErrorCode, UINT32, 0)                                  \
	P(ConfigManagerUserConfig, BOOLEAN, 0)                                \
	P(CpuStatus, UINT16, 0)                                               \
	P(CreationClassName, STRING, 0)                                       \
	P(CurrentClockSpeed, UINT32, 0)                                       \
	P(CurrentVoltage, UINT16, 0)                                          \
	P(DataWidth, UINT16, 0)                                               \
	P(Description, STRING, 0)                                             \
	P(DeviceID, STRING, KEY)                                              \
	P(ErrorCleared, BOOLEAN, 0)                                           \
	P(ErrorDescription, STRING, 0)                                        \
	P(ExtClock, UINT32, 0)                                                \
	P(Family, UINT16, 0)                                                  \
	P(InstallDate, DATETIME, 0)                                           \
	P(L2CacheSize, UINT32, 0)                                             \
	P(L2CacheSpeed, UINT32, 0)                                            \
	P(L3CacheSize, UINT32, 0)                                             \
	P(L3CacheSpeed, UINT32, 0)                                            \
	P(LastErrorCode, UINT32, 0)                                           \
	P(Level, UINT16, 0)                                                   \
	P(LoadPercentage, UINT16, 0)                                          \
	P(Manufacturer, STRING, 0)                                            \
	P(MaxClockSpeed, UINT32, 0)                                           \
	P(Name, STRING, 0)                                                    \
	P(NumberOfCores, UINT32, 0)                                           \
	P(NumberOfLogicalProcessors, UINT32, 0)                               \
	P(OtherFamilyDescription, STRING, 0)                                  \
	P(PNPDeviceID, STRING, 0)                                             \
	P(PowerManagementCapabilities, UINT16, ARRAY)                         \
	P(PowerManagementSupported, BOOLEAN, 0)                               \
	P(ProcessorId, STRING, 0)                                             \
	P(ProcessorType, UINT16, 0)                                           \
	P(Revision, UINT16, 0)                                                \
	P(Role, STRING, 0)                                                    \
	P(SecondLevelAddressTranslationExtensions, BOOLEAN, 0)                \
	P(SocketDesignation, STRING, 0)                                       \
	P(Status, STRING, 0)                                                  \
	P(StatusInfo, UINT16, 0)                                              \
	P(Stepping, STRING, 0)                                                \
	P(SystemCreationClassName, STRING, 0)                                 \
	P(SystemName, STRING, 0)                                              \
	P(UniqueId, STRING, 0)                                                \
	P(UpgradeMethod, UINT16, 0)                                           \
	P(Version, STRING, 0)                                                 \
	P(VirtualizationFirmwareEnabled, BOOLEAN, 0)                          \
	P(VMMonitorModeExtensions, BOOLEAN, 0)                                \
	P(VoltageCaps, UINT32, 0)
#define WMI_METHODS_Win32_Processor(M, I, O)

#define WMI_PROPS_Win32_Service(P)                                            \
	P(AcceptPause, BOOLEAN, 0)                                            \
	P(AcceptStop, BOOLEAN, 0)                                             \
	P(Caption, STRING, 0)                                                 \
	P(CheckPoint, UINT32, 0)                                              \
	P(CreationClassName, STRING, 0)                                       \
	P(Description, STRING, 0)                                             \
	P(DesktopInteract, BOOLEAN, 0)                                        \
	P(DisplayName, STRING, 0)                                             \
	P(ErrorControl, STRING, 0)                                            \
	P(ExitCode, UINT32, 0)                                                \
	P(InstallDate, DATETIME, 0)                                           \
	P(Name, STRING, KEY)                                                  \
	P(PathName, STRING, 0)                                                \
	P(ProcessId, UINT32, 0)                                               \
	P(ServiceSpecificExitCode, UINT32, 0)                                 \
	P(ServiceType, STRING, 0)                                             \
	P(Started, BOOLEAN, 0)                                                \
	P(StartMode, STRING, 0)                                               \
	P(StartName, STRING, 0)                                               \
	P(State, STRING, 0)                                                   \
	P(Status, STRING, 0)                                                  \
	P(SystemCreationClassName, STRING, 0)                                 \
	P(SystemName, STRING, 0)                                              \
	P(TagId, UINT32, 0)                                                   \
	P(WaitHint, UINT32, 0)
#define WMI_METHODS_Win32_Service(M, I, O)                                    \
	M(ChangeStartMode, 0)                                                 \
	I(StartMode, STRING)                                                  \
	M(PauseService, 0)                                                    \
	M(ResumeService, 0)                                                   \
	M(StartService, 0)                                                    \
	M(StopService, 0)

#define WMI_PROPS_Win32_UserAccount(P)                                        \
	P(AccountType, UINT32, 0)                                             \
	P(Caption, STRING, 0)                                                 \
	P(Description, STRING, 0)                                             \
	P(Disabled, BOOLEAN, 0)                                               \
	P(Domain, STRING, KEY)                                                \
	P(FullName, STRING, 0)                                                \
	P(InstallDate, DATETIME, 0)                                           \
	P(LocalAccount, BOOLEAN, 0)                                           \
	P(Lockout, BOOLEAN, 0)                                                \
	P(Name, STRING, KEY)                                                  \
	P(PasswordChangeable, BOOLEAN, 0)                                     \
	P(PasswordExpires, BOOLEAN, 0)                                        \
	P(PasswordRequired, BOOLEAN, 0)                                       \
	P(SID, STRING, 0)                                                     \
	P(SIDType, UINT8, 0)                                                  \
	P(Status, STRING, 0)
#define WMI_METHODS_Win32_UserAccount(M, I, O)

/* clang-format on */

#endif
