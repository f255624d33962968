/* ns.h - namespace and URI constants of WS-Management as Windows uses them. */
#ifndef WINRMD_NS_H
#define WINRMD_NS_H

#define NS_SOAP "http://www.w3.org/2003/05/soap-envelope"
#define NS_SOAP11 "http://schemas.xmlsoap.org/soap/envelope/"
#define NS_ADDRESSING "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define NS_TRANSFER "http://schemas.xmlsoap.org/ws/2004/09/transfer"
#define NS_ENUMERATION "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
#define NS_EVENTING "http://schemas.xmlsoap.org/ws/2004/08/eventing"
#define NS_WSMAN "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
#define NS_WSMV "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
#define NS_CIMBINDING "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"
#define NS_SHELL "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
#define NS_WSMANFAULT "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
#define NS_CONFIG "http://schemas.microsoft.com/wbem/wsman/1/config"
#define NS_IDENTITY                                                            \
	"http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define NS_MACHINEID "http://schemas.microsoft.com/wbem/wsman/1/machineid"

#define ADDR_ANONYMOUS                                                         \
	"http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

#define ACTION_FAULT_WSMAN "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
#define ACTION_FAULT_ADDRESSING                                                \
	"http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
#define ACTION_FAULT_TRANSFER                                                  \
	"http://schemas.xmlsoap.org/ws/2004/09/transfer/fault"
#define ACTION_FAULT_ENUMERATION                                               \
	"http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault"
#define ACTION_FAULT_SOAP "http://www.w3.org/2005/08/addressing/soap/fault"

#define ACTION_GET NS_TRANSFER "/Get"
#define ACTION_PUT NS_TRANSFER "/Put"
#define ACTION_CREATE NS_TRANSFER "/Create"
#define ACTION_DELETE NS_TRANSFER "/Delete"
#define ACTION_ENUMERATE NS_ENUMERATION "/Enumerate"
#define ACTION_PULL NS_ENUMERATION "/Pull"
#define ACTION_RELEASE NS_ENUMERATION "/Release"
#define ACTION_SHELL_COMMAND NS_SHELL "/Command"
#define ACTION_SHELL_SEND NS_SHELL "/Send"
#define ACTION_SHELL_RECEIVE NS_SHELL "/Receive"
#define ACTION_SHELL_SIGNAL NS_SHELL "/Signal"

#define RESOURCE_SHELL_CMD NS_SHELL "/cmd"
#define NS_SHELL_STATE NS_SHELL "/CommandState"
#define NS_SHELL_SIGNAL NS_SHELL "/signal"
#define RESOURCE_CONFIG NS_CONFIG

#define SECPROFILE_PREFIX                                                      \
	"http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/"

#endif
